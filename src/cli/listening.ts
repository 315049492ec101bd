/**
 * Whether `serve` can listen, and whether *its* nginx does. A connection that
 * succeeds proves only that someone holds the port: a second serve on a busy
 * port would otherwise report "ready" for another process's socket while its
 * own nginx prints bind errors and dies.
 *
 * Before nginx starts, serve binds the address itself for a moment
 * ({@link checkCanListen}): a port in use or an address this machine does not
 * have is one line naming it, and nginx is never started. Afterwards,
 * readiness is the nginx master holding a listening socket on the port (Linux:
 * the socket's inode from /proc/net/tcp{,6} among the master's open files);
 * where /proc cannot tell, a connection that succeeds while nginx runs.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import { UsageError } from "./errors";

/** The address as nginx and Node's listen() spell it (`[::1]` → `::1`). */
function bindHost(host: string): string {
  return host.replace(/^\[|\]$/g, "");
}

const REASONS: Record<string, string> = {
  EADDRINUSE: "the port is in use by another process",
  EADDRNOTAVAIL: "this machine has no such address",
  EACCES: "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)",
  EAFNOSUPPORT: "this machine has no IPv6",
  ENOTFOUND: "the host name does not resolve",
  EAI_AGAIN: "the host name does not resolve",
};

/**
 * Binds `host:port` and lets it go again; throws a UsageError (exit 1) saying
 * why when that fails. `[::]` is bound IPv6-only, as nginx binds it.
 */
export async function checkCanListen(host: string, port: number, shown: string): Promise<void> {
  const h = bindHost(host);
  await new Promise<void>((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", (e: NodeJS.ErrnoException) => {
      const why = REASONS[e.code ?? ""] ?? e.message;
      reject(new UsageError(`cannot listen on ${shown}: ${why}`, 1));
    });
    srv.listen({ host: h, port, exclusive: true, ipv6Only: net.isIPv6(h) }, () => srv.close(() => resolve()));
  });
}

/** Inodes of the listening TCP sockets on `port` (any address), or undefined without /proc. */
function listeningInodes(port: number): Set<string> | undefined {
  const inodes = new Set<string>();
  let read = false;
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = fs.readFileSync(file, "latin1");
    } catch {
      continue;
    }
    read = true;
    for (const line of text.split("\n").slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== "0A") continue;
      if (parseInt(f[1].slice(f[1].lastIndexOf(":") + 1), 16) === port) inodes.add(f[9]);
    }
  }
  return read ? inodes : undefined;
}

/**
 * Whether process `pid` holds a listening socket on `port`: true or false, or
 * undefined when this machine cannot tell (no /proc, or its fds unreadable).
 */
export function holdsListener(pid: number, port: number): boolean | undefined {
  const inodes = listeningInodes(port);
  if (!inodes) return undefined;
  if (inodes.size === 0) return false;
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m && inodes.has(m[1])) return true;
    } catch {
      /* closed meanwhile */
    }
  }
  return false;
}

function connects(host: string, port: number): Promise<boolean> {
  const target = host === "0.0.0.0" ? "127.0.0.1" : host === "[::]" ? "::1" : bindHost(host);
  return new Promise((resolve) => {
    const s = net.connect(port, target);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/**
 * Resolves true once nginx (master `pid`) listens on `host:port`, false as
 * soon as `exited` settles first. Never outlives nginx: the poll stops when
 * nginx exits.
 */
export async function waitOwnListener(
  pid: number,
  host: string,
  port: number,
  exited: Promise<unknown>,
): Promise<boolean> {
  let over = false;
  void exited.then(() => (over = true));
  while (!over) {
    const held = holdsListener(pid, port);
    if (held === true || (held === undefined && (await connects(host, port)) && !over)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
