/**
 * Simulated nodes for the SSH e2e tests: each node is a network namespace and
 * a private mount namespace on this machine, running Debian's sshd with its
 * stock configuration and a private containerd on the default socket. What
 * the component's remote steps write (`/etc/containerd/certs.d`, `/var/lib/…`,
 * `/etc/kubernetes`, `/root/.ssh`) lands on that node only.
 *
 * Layout (names carry process.pid, so parallel runs never meet):
 *
 *   netns scr<pid>lan   the "LAN": a bridge with 10.77.0.1/24, where the SSH
 *                       client runs (the machine that runs `pulumi up`)
 *   netns scr<pid>n<i>  node i: eth0 10.77.0.(11+i)/24 on that bridge, lo
 *
 * Addresses exist only inside these namespaces; this machine's own network
 * namespace gets no address and no route.
 *
 * Each node's mount namespace (`unshare --mount --propagation private`, held
 * by one `sleep` process) gets a tmpfs, and over it: overlays on `/etc` and
 * `/var/lib` (reads see this machine's files, writes stay on the node), and
 * fresh tmpfs on `/run`, `/root` (Debian's stock dotfiles) and
 * `/var/lib/containerd` (containerd's overlay snapshotter cannot sit on an
 * overlay). The node's sshd is
 * `/usr/sbin/sshd -D -e` without any option: it reads the stock
 * `/etc/ssh/sshd_config` (so `AcceptEnv LANG LC_*` is what real nodes have)
 * and the stock host key paths, where the node holds its own ed25519 key;
 * root's `authorized_keys` holds the test's key. containerd runs with
 * `/etc/containerd/config.toml` at its defaults (root `/var/lib/containerd`,
 * state `/run/containerd`, socket `/run/containerd/containerd.sock`) and its
 * CRI plugin on that socket, which pulls as it does for a kubelet (`cri`,
 * test/support/cri.ts); the file carries the CRI registry `config_path` (or
 * not, for the node that must be refused), as a real node's would.
 *
 * A spec's `disks` are paths where the node gets a filesystem of its own (a
 * directory of its state bind-mounted there), as a dedicated disk would be.
 *
 * Teardown stops every process by PID (sshd, containerd, the holder) and
 * deletes the namespaces; the node's files vanish with its mount namespace.
 * Needs root, iproute2, util-linux (unshare, nsenter), openssh-server and
 * -client, containerd.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CONTAINERD_TEST_DISABLED_PLUGINS } from "./containerd";
import { criImageClient, type CriImageClient } from "./cri";
import type { TestContext } from "node:test";
import { requireRoot, requireTool, run, runAny, startProcess, tmpDir, type Server } from "./tools";

/** The containerd hosts dir the nodes' CRI config names (when they have one). */
export const NODE_CERTS_DIR = "/etc/containerd/certs.d";
export const NODE_CONTAINERD_SOCKET = "/run/containerd/containerd.sock";

/** The tools a node simulation needs (for requireTool). */
export const NODE_SIM_TOOLS = [
  "ip",
  "unshare",
  "nsenter",
  "sshd",
  "ssh",
  "scp",
  "ssh-keygen",
  "containerd",
  "ctr",
];

/** Root and every tool, or (outside CI) a loud skip. */
export function nodeSimReady(t: TestContext): boolean {
  if (!requireRoot(t, "the node simulation needs root (network and mount namespaces)")) return false;
  for (const tool of NODE_SIM_TOOLS) if (!requireTool(t, tool)) return false;
  return true;
}

export interface NodeSpec {
  /** Whether containerd's config sets the CRI registry `config_path` (default true). */
  configPath?: boolean;
  /**
   * Paths on the node where a filesystem of its own is mounted (a directory
   * of the node's state, bind-mounted there), as a dedicated disk would be.
   */
  disks?: string[];
}

export interface SimNode {
  /** Node name (also its Kubernetes node name in the tests). */
  name: string;
  /** Its address on the simulated LAN. */
  host: string;
  port: number;
  user: string;
  /** Network namespace name. */
  netns: string;
  /** PID of the process holding the node's mount namespace. */
  holderPid: number;
  sshd: Server;
  containerd: Server;
  /** Runs argv on the node (its network and mount namespaces), as root, without SSH. */
  exec: (argv: string[], opts?: { input?: string }) => ReturnType<typeof runAny>;
  /** argv that runs `argv` on the node, as exec does: for a process to start and keep (startProcess). */
  enter: (argv: string[]) => string[];
  /** This node's view of `p` from this machine (through /proc/<holder>/root). */
  path: (p: string) => string;
  /** `ctr` on the node, against its containerd. */
  ctr: (args: string[], namespace?: string) => ReturnType<typeof runAny>;
  /** The node's CRI image service (its containerd's socket), as its kubelet would call it. */
  cri: () => CriImageClient;
}

/** Where an SSH client connects. */
export type Endpoint = Pick<SimNode, "host" | "port" | "user">;

export interface NodeSim {
  nodes: SimNode[];
  /** The LAN namespace, where the SSH client runs. */
  lan: string;
  /** The test's private key (PEM/OpenSSH text) and its file. */
  privateKey: string;
  keyFile: string;
  /** A known_hosts file holding every node's host key. */
  knownHosts: string;
  /** argv prefix that runs a command in the LAN namespace. */
  inLan: (argv: string[]) => string[];
  /**
   * `ssh` to a node: argv for spawn, with the env requests `env` (SetEnv, as a
   * client library sends them), authenticating with `identity` (a key file;
   * default the test's key).
   */
  sshArgv: (node: Endpoint, env?: Record<string, string>, identity?: string) => string[];
  /** `scp -r LOCAL user@host:REMOTE` (SFTP), like sshArgv. */
  scpArgv: (node: Endpoint, local: string, remote: string, identity?: string) => string[];
  stop: () => Promise<void>;
}

const SUBNET = "10.77.0";
const CRI_PLUGIN = "io.containerd.grpc.v1.cri";

/** What the nodes' containerd runs without: the test set, except the CRI plugin (the kubelet's way in). */
const NODE_DISABLED_PLUGINS = CONTAINERD_TEST_DISABLED_PLUGINS.filter((p) => p !== CRI_PLUGIN);

function containerdConfig(configPath: boolean): string {
  const lines = [
    "version = 2",
    `disabled_plugins = ${JSON.stringify(NODE_DISABLED_PLUGINS)}`,
    "[debug]",
    `  level = "warn"`,
    "[metrics]",
    `  address = ""`,
    // The CRI plugin serves images only here: no pods, so no CNI and no streaming clients.
    `[plugins."${CRI_PLUGIN}"]`,
    `  stream_server_address = "127.0.0.1"`,
    `  stream_server_port = "0"`,
  ];
  if (configPath) {
    lines.push(`[plugins."io.containerd.grpc.v1.cri".registry]`, `  config_path = "${NODE_CERTS_DIR}"`);
  }
  return lines.join("\n") + "\n";
}

/** The shell text that makes the holder's mount namespace a node (run inside it, as root). */
function nodeSetup(state: string, disks: readonly string[]): string {
  const mounts = disks
    .map((d, i) => {
      if (!/^\/[A-Za-z0-9._/-]+$/.test(d)) throw new Error(`node sim: disk path ${d} is not plain`);
      return `mkdir -p "$S/disk-${i}" ${d}\nmount --bind "$S/disk-${i}" ${d}\n`;
    })
    .join("");
  return `set -eu
S=${state}
mkdir -p "$S"
mount -t tmpfs -o mode=0755 tmpfs "$S"
for d in etc var/lib; do
  mkdir -p "$S/$d/u" "$S/$d/w"
  mount -t overlay overlay -o lowerdir=/$d,upperdir="$S/$d/u",workdir="$S/$d/w" /$d
done
mount -t tmpfs -o mode=0755 tmpfs /run
# A fresh root home as Debian installs it (this machine's dotfiles stay here).
mount -t tmpfs -o mode=0700 tmpfs /root
for f in bashrc profile; do
  if [ -f /usr/share/base-files/dot.$f ]; then cp /usr/share/base-files/dot.$f /root/.$f; fi
done
mkdir -p /run/sshd /run/containerd /var/lib/containerd
chmod 0755 /run/sshd
mount -t tmpfs -o mode=0711 tmpfs /var/lib/containerd
${mounts}echo ready
exec sleep infinity
`;
}

async function waitFor(what: string, ok: () => boolean, timeoutMs: number, log: () => string) {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`node sim: ${what} not ready after ${timeoutMs} ms\n${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Waits until `http://127.0.0.1:<port><urlPath>` answers 2xx on node `n` (from
 * its own network, as the kubelet probes a hostNetwork pod), failing with
 * `server`'s output when it exits first or does not answer in time.
 */
export async function waitForNodeHttp(
  n: SimNode,
  port: number,
  urlPath: string,
  server: Server,
  timeoutMs = 15000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (n.exec(["curl", "-sf", "-o", "/dev/null", `http://127.0.0.1:${port}${urlPath}`]).status !== 0) {
    const exited = server.proc.exitCode !== null || server.proc.signalCode !== null;
    if (exited || Date.now() > deadline)
      throw new Error(
        `${urlPath} on ${n.name}:${port} did not answer ${exited ? "before its server exited" : `within ${timeoutMs} ms`}:\n${server.output()}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts `specs.length` nodes (≥ 1) and returns them once every sshd accepts
 * connections and every containerd answers.
 */
export async function startNodes(specs: NodeSpec[]): Promise<NodeSim> {
  const tag = `scr${process.pid}`;
  const lan = `${tag}lan`;
  const dir = tmpDir(`nodesim`);
  const keyFile = path.join(dir, "id_ed25519");
  const knownHosts = path.join(dir, "known_hosts");
  const servers: Server[] = [];
  const namespaces: string[] = [];
  const nodes: SimNode[] = [];
  const closers: (() => void)[] = [];
  const stop = async () => {
    for (const c of closers) c();
    for (const s of servers.reverse()) await s.stop();
    for (const ns of namespaces.reverse()) runAny("ip", ["netns", "delete", ns]);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "scr-node-sim", "-f", keyFile]);
    run("ip", ["netns", "add", lan]);
    namespaces.push(lan);
    const inLan = (argv: string[]) => ["ip", "netns", "exec", lan, ...argv];
    const lanIp = (args: string[]) => run("ip", ["-n", lan, ...args]);
    lanIp(["link", "set", "lo", "up"]);
    lanIp(["link", "add", "br0", "type", "bridge"]);
    lanIp(["addr", "add", `${SUBNET}.1/24`, "dev", "br0"]);
    lanIp(["link", "set", "br0", "up"]);
    fs.writeFileSync(knownHosts, "");

    for (const [i, spec] of specs.entries()) {
      const name = `node-${i + 1}`;
      const netns = `${tag}n${i + 1}`;
      const host = `${SUBNET}.${11 + i}`;
      run("ip", ["netns", "add", netns]);
      namespaces.push(netns);
      run("ip", [
        "link",
        "add",
        `v${i + 1}`,
        "netns",
        lan,
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        netns,
      ]);
      lanIp(["link", "set", `v${i + 1}`, "master", "br0", "up"]);
      run("ip", ["-n", netns, "link", "set", "lo", "up"]);
      run("ip", ["-n", netns, "addr", "add", `${host}/24`, "dev", "eth0"]);
      run("ip", ["-n", netns, "link", "set", "eth0", "up"]);

      const holder = startProcess("ip", [
        "netns",
        "exec",
        netns,
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        nodeSetup(path.join(dir, `${name}-state`), spec.disks ?? []),
      ]);
      servers.push(holder);
      await waitFor(`${name} mount namespace`, () => /ready/.test(holder.output()), 10000, holder.output);
      const holderPid = holder.pid;
      const enter = ["nsenter", "-t", String(holderPid), "-m", "-n", "--"];
      const exec = (argv: string[], opts: { input?: string } = {}) =>
        runAny(enter[0], [...enter.slice(1), ...argv], opts as object);
      const must = (argv: string[], input?: string) => {
        const r = exec(argv, { input });
        if (r.status !== 0)
          throw new Error(`node sim ${name}: ${argv.join(" ")} failed\n${r.stdout}${r.stderr}`);
        return r;
      };
      // The node's own host key at the stock path, root's authorized_keys, containerd's config.
      must(["sh", "-c", "rm -f /etc/ssh/ssh_host_*_key /etc/ssh/ssh_host_*_key.pub"]);
      must(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", "/etc/ssh/ssh_host_ed25519_key"]);
      const hostPub = must(["cat", "/etc/ssh/ssh_host_ed25519_key.pub"]).stdout.trim();
      fs.appendFileSync(knownHosts, `${host} ${hostPub.split(" ").slice(0, 2).join(" ")}\n`);
      must(
        ["sh", "-c", "mkdir -p /root/.ssh && chmod 700 /root/.ssh && cat > /root/.ssh/authorized_keys"],
        fs.readFileSync(`${keyFile}.pub`, "utf8"),
      );
      must(
        ["sh", "-c", "mkdir -p /etc/containerd && cat > /etc/containerd/config.toml"],
        containerdConfig(spec.configPath ?? true),
      );

      const sshd = startProcess(enter[0], [...enter.slice(1), "/usr/sbin/sshd", "-D", "-e"]);
      servers.push(sshd);
      const containerd = startProcess(enter[0], [...enter.slice(1), "containerd"]);
      servers.push(containerd);
      const ctr = (args: string[], namespace = "k8s.io") => exec(["ctr", "-n", namespace, ...args]);
      let cri: CriImageClient | undefined;
      const node: SimNode = {
        name,
        host,
        port: 22,
        user: "root",
        netns,
        holderPid,
        sshd,
        containerd,
        exec,
        enter: (argv) => [...enter, ...argv],
        path: (p) => path.join(`/proc/${holderPid}/root`, p),
        ctr,
        cri: () => (cri ??= criImageClient(path.join(`/proc/${holderPid}/root`, NODE_CONTAINERD_SOCKET))),
      };
      closers.push(() => cri?.close());
      nodes.push(node);
      await waitFor(`${name} containerd`, () => ctr(["version"]).status === 0, 20000, containerd.output);
    }

    const common = (identity: string) => [
      "-F",
      "none",
      "-i",
      identity,
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      "BatchMode=yes",
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      `UserKnownHostsFile=${knownHosts}`,
      "-o",
      "ConnectTimeout=5",
    ];
    const sshArgv = (node: Endpoint, env: Record<string, string> = {}, identity = keyFile) => [
      "ssh",
      ...common(identity),
      ...Object.entries(env).flatMap(([k, v]) => ["-o", `SetEnv=${k}="${v.replace(/(["\\])/g, "\\$1")}"`]),
      "-p",
      String(node.port),
      "-l",
      node.user,
      node.host,
    ];
    const scpArgv = (node: Endpoint, local: string, remote: string, identity = keyFile) => [
      "scp",
      "-q",
      "-r",
      ...common(identity),
      "-P",
      String(node.port),
      local,
      `${node.user}@${node.host}:${remote}`,
    ];
    for (const node of nodes) {
      await waitFor(
        `${node.name} sshd`,
        () => {
          const argv = inLan([...sshArgv(node), "true"]);
          return runAny(argv[0], argv.slice(1)).status === 0;
        },
        15000,
        node.sshd.output,
      );
    }
    return {
      nodes,
      lan,
      privateKey: fs.readFileSync(keyFile, "utf8"),
      keyFile,
      knownHosts,
      inLan,
      sshArgv,
      scpArgv,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
