/**
 * The registry on a host without a kubelet: the stock nginx image run by
 * `podman run` or `docker run`, with the standalone config (`generate
 * --standalone`) and the images mounted read-only — the pod's container
 * without Kubernetes, hardened the same way: the same paths, user 101, a
 * read-only root with a tmpfs for nginx's runtime files, no capabilities, no
 * privilege escalation, on the host's network.
 *
 * Two command lines, both built here (the README prints them, the e2e test
 * runs them): the `generate` that renders the config for the container's
 * paths into a host directory, and the `run` that starts the container.
 */
import { DEFAULT_IMAGE, DEFAULT_GID, DEFAULT_UID } from "./args";
import { MAIN_FILE } from "../nginx/standalone";
import { nginxCommand, POD_PATHS, SCRATCH_SIZE_LIMIT } from "./workload";

/** The default image, fully qualified (podman refuses short names without a registries.conf alias). */
export const DEFAULT_RUN_IMAGE = `docker.io/${DEFAULT_IMAGE}`;
/** Default container name. */
export const DEFAULT_CONTAINER_NAME = "static-container-registry";

export interface GenerateArgvOptions {
  /** The images dir on the host (the CLI scans it). */
  imagesDir: string;
  /** Where the rendered files go on the host (mounted into the container by {@link registryRunArgv}). */
  configDir: string;
  /** What nginx listens on, on the host's network: `5000`, `127.0.0.1:5000`, `[::1]:5000`. */
  listen: string;
  /** The CLI's command (default `static-container-registry`; `npx static-container-registry` works too). */
  cli?: string[];
}

/** `static-container-registry generate --standalone` rendering for the container's paths. */
export function registryGenerateArgv(o: GenerateArgvOptions): string[] {
  return [
    ...(o.cli ?? ["static-container-registry"]),
    "generate",
    o.imagesDir,
    "--standalone",
    "--listen",
    o.listen,
    "--config-dir",
    POD_PATHS.config,
    "--server-root",
    POD_PATHS.images,
    "--runtime-dir",
    POD_PATHS.runtime,
    "-o",
    o.configDir,
  ];
}

export interface RunArgvOptions {
  /** `podman` (default) or `docker`: the same options work for both. */
  engine?: "podman" | "docker";
  /** Options of the engine itself, before `run` (e.g. podman's `--root`). */
  engineArgs?: string[];
  /** The rendered config on the host (from {@link registryGenerateArgv}). */
  configDir: string;
  /** The images dir on the host. */
  imagesDir: string;
  /** Default {@link DEFAULT_RUN_IMAGE}: any nginx ≥ 1.19.5 image with a user that can read the images. */
  image?: string;
  /** Default {@link DEFAULT_CONTAINER_NAME}. */
  name?: string;
  /** Non-root UID/GID nginx runs as. Default 101:101 (the `nginx` user of the official images). */
  uid?: number;
  gid?: number;
}

/** The `podman run` / `docker run` command line of the registry container. */
export function registryRunArgv(o: RunArgvOptions): string[] {
  const uid = o.uid ?? DEFAULT_UID;
  const gid = o.gid ?? DEFAULT_GID;
  if (!Number.isInteger(uid) || uid < 1 || !Number.isInteger(gid) || gid < 1)
    throw new Error(`the registry container runs as a non-root user, not ${uid}:${gid}`);
  for (const [what, dir] of [
    ["configDir", o.configDir],
    ["imagesDir", o.imagesDir],
  ] as const) {
    // A volume spec is split on ":", and a relative path would be taken for a named volume.
    if (!dir.startsWith("/") || dir.includes(":") || dir.includes(","))
      throw new Error(`${what} "${dir}" must be an absolute path without ":" or ","`);
  }
  const [program, ...args] = nginxCommand(MAIN_FILE);
  return [
    o.engine ?? "podman",
    ...(o.engineArgs ?? []),
    "run",
    "--detach",
    "--name",
    o.name ?? DEFAULT_CONTAINER_NAME,
    "--restart",
    "always",
    // The registry is for the host's own runtime (and its neighbours): no NAT in between.
    "--network",
    "host",
    "--read-only",
    "--user",
    `${uid}:${gid}`,
    "--cap-drop",
    "ALL",
    "--security-opt",
    "no-new-privileges",
    "--tmpfs",
    `${POD_PATHS.runtime}:rw,nosuid,nodev,noexec,mode=1777,size=${SCRATCH_SIZE_LIMIT.replace(/i$/, "").toLowerCase()}`,
    "--volume",
    `${o.configDir}:${POD_PATHS.config}:ro`,
    "--volume",
    `${o.imagesDir}:${POD_PATHS.images}:ro`,
    // nginx itself, as the pod runs it: not the image's entrypoint script, which edits files
    // under /etc/nginx (read-only here) before starting nginx.
    "--entrypoint",
    program,
    o.image ?? DEFAULT_RUN_IMAGE,
    ...args,
  ];
}
