/**
 * What is rendered into the nginx config and how it is packed: the name
 * prefix of every repository served, nginx's worker count, the catalog page,
 * and the size of the ConfigMaps the rendered files are split into.
 */
import { NAME } from "../../inventory/grammar";
import { isInt, isOutputOrPromise, type ArgTable } from "./common";

/** See {@link RenderingArgs.workerProcesses}. */
export const DEFAULT_WORKER_PROCESSES = 2;

/**
 * Kubernetes rejects a ConfigMap whose data exceeds 1 MiB. We pack files into
 * ConfigMaps of at most this many bytes (keys + values) to leave room for the
 * object's metadata and managedFields within etcd's request limit.
 */
export const DEFAULT_MAX_CONFIGMAP_BYTES = 900 * 1024;

/** The names the images are served under. */
export interface NamePrefixArgs {
  /**
   * Prefix prepended to every repository name served: empty, or a repository
   * name and `/` (e.g. `mirror/`). Plain: rendered into the nginx config.
   */
  namePrefix?: string;
}

/** How the config is rendered and packed. */
export interface RenderingArgs {
  /**
   * Upper bound on the data of one ConfigMap, in bytes (a whole number,
   * 65536-1048576); larger configs are split. Default 921600 (900 KiB). Plain: decides the split.
   */
  maxConfigMapBytes?: number;
  /**
   * nginx `worker_processes`: a whole number >= 1. Default 2: nginx's "auto"
   * counts the node's CPUs, not the pod's share of them, and serving files
   * needs few workers. Plain: rendered into the nginx config.
   */
  workerProcesses?: number;
  /**
   * Serve the catalog page at `/`: the repositories with a search box, each
   * tag's digest, platforms, sizes, labels, signatures and pull commands, read
   * by the browser from the registry's own API (same origin only, a strict
   * Content-Security-Policy, no external assets). Default true; false answers
   * `/` with a 404 like any other path outside `/v2/`. Plain: rendered into
   * the nginx config.
   */
  ui?: boolean;
}

export const NAME_PREFIX_ARGS: ArgTable<NamePrefixArgs> = {
  namePrefix: "it is rendered into the nginx config",
};

export const RENDERING_ARGS: ArgTable<RenderingArgs> = {
  maxConfigMapBytes: "it decides how the config is split into ConfigMaps",
  workerProcesses: "it is rendered into the nginx config",
  ui: "it is rendered into the nginx config",
};

export interface ResolvedRendering {
  namePrefix: string;
  maxConfigMapBytes: number;
  workerProcesses: number;
  ui: boolean;
}

const NAME_PREFIX_RE = new RegExp(`^(?:${NAME}/)?$`);

/** Checks the rendering arguments, pushing every problem; the defaults filled in. */
export function checkRendering(args: NamePrefixArgs & RenderingArgs, problems: string[]): ResolvedRendering {
  const maxConfigMapBytes = args.maxConfigMapBytes ?? DEFAULT_MAX_CONFIGMAP_BYTES;
  if (
    !isOutputOrPromise(maxConfigMapBytes) &&
    (!isInt(maxConfigMapBytes) || maxConfigMapBytes < 65536 || maxConfigMapBytes > 1024 * 1024)
  ) {
    problems.push(
      `maxConfigMapBytes must be between 65536 and 1048576 (Kubernetes' limit), not ${args.maxConfigMapBytes}`,
    );
  }
  if (
    args.workerProcesses !== undefined &&
    !isOutputOrPromise(args.workerProcesses) &&
    (!isInt(args.workerProcesses) || args.workerProcesses < 1)
  ) {
    problems.push(`workerProcesses must be a whole number >= 1, not ${args.workerProcesses}`);
  }
  if (args.ui !== undefined && !isOutputOrPromise(args.ui) && typeof args.ui !== "boolean") {
    problems.push(`ui must be true or false, not ${JSON.stringify(args.ui)}`);
  }
  if (
    args.namePrefix !== undefined &&
    !isOutputOrPromise(args.namePrefix) &&
    (typeof args.namePrefix !== "string" || !NAME_PREFIX_RE.test(args.namePrefix))
  ) {
    problems.push(
      `namePrefix "${args.namePrefix}" must be empty or a repository name followed by "/" (e.g. "mirror/")`,
    );
  }
  return {
    namePrefix: args.namePrefix ?? "",
    maxConfigMapBytes,
    workerProcesses: args.workerProcesses ?? DEFAULT_WORKER_PROCESSES,
    ui: args.ui ?? true,
  };
}
