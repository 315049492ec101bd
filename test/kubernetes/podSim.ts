/**
 * A small kubelet stand-in for the pod simulation e2e: it lays out a pod's
 * volumes the way the kubelet does and runs a container of the pod spec with
 * its command, mounts and security context, on this machine.
 *
 * - configMap and projected ConfigMap volumes: the kubelet's atomic-writer layout — the files
 *   in a timestamped `..<ts>` dir, a `..data` symlink to it, and one symlink
 *   per key (`nginx.conf -> ..data/nginx.conf`), modes from `defaultMode`;
 * - hostPath (type Directory, or DirectoryOrCreate: created): the host
 *   directory (optionally redirected, to simulate a node that holds another copy);
 * - emptyDir: a fresh world-writable directory;
 * - secret: like a ConfigMap (atomic-writer layout, `items` and `defaultMode`), from `secrets`.
 *
 * Each container runs in a private mount namespace (`unshare --mount`) whose
 * root is an overlay of this machine's root (standing in for the image), the
 * volumes bind-mounted at their mountPaths (read-only where the pod says so),
 * the root remounted read-only when `readOnlyRootFilesystem`, then `chroot`
 * and `setpriv` to the pod's UID/GID with no supplementary groups, no
 * capabilities (bounding set cleared) and no_new_privs. Not simulated: the
 * network namespace (tests use hostNetwork), cgroups, and the seccomp profile.
 *
 * Needs root (as CI runs), util-linux (unshare, setpriv) and overlayfs.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { TestContext } from "node:test";
import { requireRoot, requireTool, runAny, startProcess, waitForPort, type Server } from "../support/tools";
import type { Registered } from "./mocks";

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * Whether the simulation can run here: root, util-linux's unshare and
 * setpriv, mkfifo, and the `more` tools the test needs. Like requireTool: a
 * failure in CI, a loud skip elsewhere.
 */
export function podSimReady(t: TestContext, ...more: string[]): boolean {
  if (!requireRoot(t, "the pod simulation needs root (mount namespaces, overlayfs, setpriv)")) return false;
  for (const tool of ["unshare", "setpriv", "mkfifo", ...more]) if (!requireTool(t, tool)) return false;
  return true;
}

export interface VolumeLayout {
  /** volume name → directory on this machine that backs it. */
  dirs: Map<string, string>;
}

/** Where a hostPath volume's path is found on this machine (default: the path itself). */
export type HostPathMap = (nodePath: string) => string;

/** ConfigMap name → data of the ConfigMaps among mocked registrations, as the API server would serve them. */
export function configMapsOf(res: readonly Registered[]): Map<string, Record<string, string>> {
  return new Map(
    res
      .filter((r) => r.type === "kubernetes:core/v1:ConfigMap")
      .map((r) => [r.state.metadata.name as string, r.inputs.data as Record<string, string>]),
  );
}

/**
 * Lays out every volume of `pod` under `work`. `configMaps` maps ConfigMap
 * names to their data, as the API server would serve them.
 */
export function layoutVolumes(
  pod: any,
  configMaps: Map<string, Record<string, string>>,
  work: string,
  hostPaths: HostPathMap = (p) => p,
  secrets: Map<string, Record<string, string>> = new Map(),
): VolumeLayout {
  const dirs = new Map<string, string>();
  for (const v of pod.volumes ?? []) {
    if (v.configMap) {
      const dir = path.join(work, "volumes", v.name);
      const data = configMaps.get(v.configMap.name);
      if (!data) throw new Error(`pod sim: ConfigMap ${v.configMap.name} does not exist (volume ${v.name})`);
      writeAtomic(dir, data, v.configMap.defaultMode ?? 0o644);
      dirs.set(v.name, dir);
    } else if (v.projected) {
      const dir = path.join(work, "volumes", v.name);
      const files: Record<string, string> = {};
      for (const src of v.projected.sources) {
        if (!src.configMap) throw new Error(`pod sim: unsupported projected source in ${v.name}`);
        const data = configMaps.get(src.configMap.name);
        if (!data)
          throw new Error(`pod sim: ConfigMap ${src.configMap.name} does not exist (volume ${v.name})`);
        for (const [k, content] of Object.entries(data)) {
          // The kubelet refuses to set up a projected volume with conflicting paths.
          if (k in files)
            throw new Error(`pod sim: conflicting duplicate path ${k} in projected volume ${v.name}`);
          files[k] = content;
        }
      }
      writeAtomic(dir, files, v.projected.defaultMode ?? 0o644);
      dirs.set(v.name, dir);
    } else if (v.hostPath) {
      const p = hostPaths(v.hostPath.path);
      if (v.hostPath.type === "DirectoryOrCreate") fs.mkdirSync(p, { recursive: true, mode: 0o755 });
      if (v.hostPath.type === "Directory" && !fs.statSync(p, { throwIfNoEntry: false })?.isDirectory()) {
        throw new Error(
          `pod sim: hostPath ${v.hostPath.path} is not a directory (the kubelet would not start the pod)`,
        );
      }
      dirs.set(v.name, p);
    } else if (v.secret) {
      const dir = path.join(work, "volumes", v.name);
      const data = secrets.get(v.secret.secretName);
      if (!data) throw new Error(`pod sim: Secret ${v.secret.secretName} does not exist (volume ${v.name})`);
      const files: Record<string, string> = {};
      for (const item of v.secret.items ?? Object.keys(data).map((k) => ({ key: k, path: k }))) {
        if (!(item.key in data))
          throw new Error(`pod sim: Secret ${v.secret.secretName} has no key ${item.key}`);
        files[item.path] = data[item.key];
      }
      writeAtomic(dir, files, v.secret.defaultMode ?? 0o644);
      dirs.set(v.name, dir);
    } else if (v.emptyDir) {
      const dir = path.join(work, "volumes", v.name);
      fs.mkdirSync(dir, { recursive: true });
      fs.chmodSync(dir, 0o777);
      dirs.set(v.name, dir);
    } else {
      throw new Error(`pod sim: unsupported volume ${JSON.stringify(v)}`);
    }
  }
  return { dirs };
}

/** The kubelet's AtomicWriter layout. */
function writeAtomic(dir: string, files: Record<string, string>, mode: number): void {
  const ts = `..${new Date().toISOString().replace(/[-:]/g, "_").replace("T", "_").replace("Z", "")}.${process.pid}`;
  fs.mkdirSync(path.join(dir, ts), { recursive: true });
  for (const [k, content] of Object.entries(files)) {
    const f = path.join(dir, ts, k);
    fs.writeFileSync(f, content);
    fs.chmodSync(f, mode);
  }
  fs.chmodSync(path.join(dir, ts), 0o755);
  fs.symlinkSync(ts, path.join(dir, "..data"));
  for (const k of Object.keys(files)) fs.symlinkSync(path.join("..data", k), path.join(dir, k));
  fs.chmodSync(dir, 0o777 & ~0o022);
}

export interface ContainerRun {
  /** Program and arguments that run the container (to spawn). */
  cmd: string;
  args: string[];
  uid: number;
  gid: number;
}

/**
 * The command line that runs `container` of `pod` as described above. For a
 * long-running container the process keeps its PID through every exec, so
 * stopping it by PID stops the container's main process; an init container's
 * process ends only after all of its output has been passed on.
 */
export function containerRun(pod: any, container: any, layout: VolumeLayout, work: string): ContainerRun {
  const psc = pod.securityContext ?? {};
  const sc = container.securityContext ?? {};
  const uid = sc.runAsUser ?? psc.runAsUser;
  const gid = sc.runAsGroup ?? psc.runAsGroup;
  const nonRoot = sc.runAsNonRoot ?? psc.runAsNonRoot;
  if (typeof uid !== "number" || typeof gid !== "number")
    throw new Error("pod sim: the pod must set runAsUser/runAsGroup");
  // What the kubelet enforces for runAsNonRoot.
  if (nonRoot && uid === 0)
    throw new Error(`pod sim: container ${container.name} has runAsNonRoot and UID 0`);
  if (sc.privileged) throw new Error("pod sim: privileged containers are not simulated");
  const argv: string[] = [...(container.command ?? []), ...(container.args ?? [])];
  if (argv.length === 0) throw new Error(`pod sim: container ${container.name} has no command`);

  const root = path.join(work, `rootfs-${container.name}`);
  const upper = path.join(work, `upper-${container.name}`);
  fs.mkdirSync(root, { recursive: true });
  fs.mkdirSync(upper, { recursive: true });
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const lines = [
    "set -eu",
    `R=${q(root)}`,
    `U=${q(upper)}`,
    // The image: this machine's root, copy-on-write into a throwaway tmpfs.
    'mount -t tmpfs tmpfs "$U"',
    'mkdir "$U/u" "$U/w"',
    'mount -t overlay overlay -o lowerdir=/,upperdir="$U/u",workdir="$U/w" "$R"',
    'mount --rbind /dev "$R/dev"',
    'mount -t proc proc "$R/proc"',
  ];
  for (const m of container.volumeMounts ?? []) {
    const src = layout.dirs.get(m.name);
    if (!src) throw new Error(`pod sim: container ${container.name} mounts unknown volume ${m.name}`);
    if (m.subPath) throw new Error("pod sim: subPath is not simulated");
    const target = `"$R"${q(m.mountPath)}`;
    lines.push(`mkdir -p ${target}`, `mount --bind ${q(src)} ${target}`);
    if (m.readOnly) lines.push(`mount -o remount,bind,ro ${target}`);
  }
  if (sc.readOnlyRootFilesystem) lines.push('mount -o remount,ro "$R"');
  // containerd's shim gives a container pipes as stdout and stderr, owned by
  // the container's UID/GID (go-runc NewPipeIO fchowns them), so a non-root
  // process can open /dev/stdout. A process spawned by node has sockets
  // there instead, which cannot be opened: put FIFOs owned likewise between.
  lines.push(
    `F=${q(path.join(work, `stdio-${container.name}`))}`,
    'rm -f "$F.out" "$F.err"; mkfifo -m 0600 "$F.out" "$F.err"',
    `chown ${uid}:${gid} "$F.out" "$F.err"`,
  );
  // An init container runs to completion: the shell stays as its parent and
  // exits with its status only once the relays have copied the last byte, so
  // whoever waits for the process gets all of its output. A long-running
  // container is exec'd (it keeps the PID a test stops it by), with its relays
  // in subshells so that they are not children of the container's process.
  const runsToCompletion = (pod.initContainers ?? []).includes(container);
  if (runsToCompletion) lines.push('cat "$F.out" & o=$!', 'cat "$F.err" >&2 & e=$!');
  else lines.push('(cat "$F.out" &)', '(cat "$F.err" >&2 &)');
  lines.push('exec >"$F.out" 2>"$F.err"');
  const drop = (sc.capabilities?.drop ?? []).includes("ALL");
  if (!drop) throw new Error("pod sim: expected capabilities.drop [ALL]");
  lines.push(
    [
      `${runsToCompletion ? "status=0; " : "exec "}chroot "$R" setpriv`,
      `--reuid=${uid}`,
      `--regid=${gid}`,
      "--clear-groups",
      "--inh-caps=-all",
      "--bounding-set=-all",
      ...(sc.allowPrivilegeEscalation === false ? ["--no-new-privs"] : []),
      "--",
      ...argv.map(q),
      ...(runsToCompletion ? ["|| status=$?"] : []),
    ].join(" "),
  );
  if (runsToCompletion) lines.push("exec >&- 2>&-", 'wait "$o" "$e"', 'exit "$status"');
  const script = path.join(work, `run-${container.name}.sh`);
  fs.writeFileSync(script, lines.join("\n") + "\n");
  return { cmd: "unshare", args: ["--mount", "--propagation", "private", "sh", script], uid, gid };
}

/** The environment a container gets (no host variables leak in, as in a pod). */
export function containerEnv(): NodeJS.ProcessEnv {
  return { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOSTNAME: "registry-pod" };
}

/** Runs a container of `pod` to completion (an init container, or a probe), in `work`. */
export function runContainer(
  pod: any,
  container: any,
  layout: VolumeLayout,
  work: string,
  env: NodeJS.ProcessEnv = containerEnv(),
) {
  const c = containerRun(pod, container, layout, work);
  return runAny(c.cmd, c.args, { env });
}

/**
 * Starts a long-running container of `pod` (nginx) in `work` and waits until
 * it listens on 127.0.0.1:`port`; fails with its output if it exits first.
 * The caller stops it (by PID: Server.stop).
 */
export async function startContainer(
  pod: any,
  container: any,
  layout: VolumeLayout,
  work: string,
  port: number,
): Promise<Server> {
  const c = containerRun(pod, container, layout, work);
  const server = startProcess(c.cmd, c.args, { env: containerEnv() });
  await waitForPort(port, 30000, server.proc).catch(async (err: Error) => {
    await server.stop();
    throw new Error(`${err.message}\n${server.output()}`);
  });
  return server;
}
