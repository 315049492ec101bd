/**
 * Shared test plumbing: finding external tools, free ports, and servers that a
 * test starts and stops by PID.
 *
 * In CI (CI=true) a missing tool fails the test; elsewhere it skips with a loud
 * message, so a developer without podman can still run the rest.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { StringDecoder } from "node:string_decoder";
import type { TestContext } from "node:test";
import { DEFAULT_NJS_MODULE_PATH } from "../../src/nginx/standalone";

export const inCI = process.env.CI === "true" || process.env.CI === "1";

/** Absolute path of `name` on PATH (plus the sbin dirs nginx lives in), or undefined. */
export function which(name: string): string | undefined {
  const dirs = (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/sbin", "/usr/local/sbin"]);
  for (const d of dirs) {
    const p = path.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* keep looking */
    }
  }
  return undefined;
}

/**
 * Returns the tool's path, or (outside CI) skips the test loudly. In CI a
 * missing tool is a failure: e2e tests must really run there.
 */
export function requireTool(t: TestContext, name: string): string | undefined {
  const p = which(name);
  // The rendered config answers the list endpoints with njs: nginx without it cannot start.
  if (p && (name !== "nginx" || fs.existsSync(DEFAULT_NJS_MODULE_PATH))) return p;
  const msg = p
    ? `nginx's njs module is not installed at ${DEFAULT_NJS_MODULE_PATH} (apt-get install libnginx-mod-http-js)`
    : `${name} is not installed (apt-get install ${aptPackage(name)})`;
  if (inCI) throw new Error(`${msg}; CI must run every e2e test`);
  process.stderr.write(`\n*** SKIPPING: ${msg} ***\n`);
  t.skip(msg);
  return undefined;
}

/**
 * Whether this process is root; else, like {@link requireTool}, a failure in
 * CI (which runs as root) and a loud skip elsewhere. `msg` says what needs it.
 */
export function requireRoot(t: TestContext, msg: string): boolean {
  if (process.getuid?.() === 0) return true;
  if (inCI) throw new Error(`${msg}; CI runs as root`);
  process.stderr.write(`\n*** SKIPPING: ${msg} ***\n`);
  t.skip(msg);
  return false;
}

function aptPackage(tool: string): string {
  return (
    {
      nginx: "nginx-light",
      ctr: "containerd",
      containerd: "containerd",
      "docker-registry": "docker-registry",
      script: "bsdutils",
      jq: "jq",
    }[tool] ?? tool
  );
}

/** A free TCP port on 127.0.0.1 (bind to port 0, read it, release it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      if (addr && typeof addr === "object") {
        const port = addr.port;
        srv.close(() => resolve(port));
      } else reject(new Error("no port"));
    });
  });
}

/** Wait until something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port: number, timeoutMs = 15000, proc?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc && (proc.exitCode !== null || proc.signalCode !== null))
      throw new Error(`process exited (${proc.exitCode ?? proc.signalCode}) before listening`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Server {
  pid: number;
  proc: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

let logSeq = 0;

/**
 * Start a long-running process, capture its output, and return a handle that
 * stops it by PID.
 *
 * The output goes to a file, not to a pipe: tests run clients with spawnSync,
 * which blocks this process's event loop, and a pipe is only drained when the
 * loop turns. A server that logs while a client talks to it (docker-registry
 * logs every 404 at level warn) would fill the pipe's buffer, block in write(),
 * and never answer the client that the test is waiting for. How big that
 * buffer is depends on the Node.js version (libuv's socketpair), so such a
 * hang comes and goes with it. A file never blocks the writer. It is unlinked
 * at once (we keep a descriptor to read it), so nothing is left behind.
 */
export function startProcess(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Server {
  const logPath = path.join(os.tmpdir(), `scr-server-${process.pid}-${++logSeq}.log`);
  const writeFd = fs.openSync(logPath, "ax");
  const readFd = fs.openSync(logPath, "r");
  fs.unlinkSync(logPath);
  let proc: ChildProcess;
  try {
    proc = spawn(cmd, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ["ignore", writeFd, writeFd],
    });
  } finally {
    fs.closeSync(writeFd); // the child has its own copy
  }
  let out = "";
  let readFdOpen = true;
  const decoder = new StringDecoder("utf8");
  const output = () => {
    if (!readFdOpen) return out;
    const buf = Buffer.alloc(64 * 1024);
    for (let n; (n = fs.readSync(readFd, buf, 0, buf.length, null)) > 0;)
      out += decoder.write(buf.subarray(0, n));
    return out;
  };
  const closeLog = () => {
    output();
    readFdOpen = false;
    fs.closeSync(readFd);
  };
  if (proc.pid === undefined) {
    closeLog();
    throw new Error(`could not start ${cmd}`);
  }
  const pid = proc.pid;
  proc.once("exit", () => setImmediate(() => readFdOpen && closeLog()));
  return {
    pid,
    proc,
    output,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((r) => proc.once("exit", () => r()));
      process.kill(pid, "SIGTERM");
      const timer = setTimeout(() => {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          /* already gone */
        }
      }, 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Run a command to completion, whatever its exit status. */
export function runAny(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024, ...opts });
  if (r.error) throw r.error;
  return r;
}

/** Like runAny, but throws with its output when it fails. */
export function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
) {
  const r = runAny(cmd, args, opts);
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/**
 * argv that runs the shell text `script` ($1… are `args`) in a private mount
 * namespace (util-linux unshare; needs root): what it mounts there, this
 * machine and the other tests never see, and it all goes when it exits.
 */
export function inPrivateMounts(script: string, args: string[] = []): string[] {
  return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", ...args];
}

const REPO = path.resolve(__dirname, "..", "..", "..");
let publicRepo: string | undefined;

/**
 * argv that runs `argv` as uid and gid `uid` with no supplementary groups
 * (setpriv; needs root), so that file modes matter. This checkout may sit
 * below a 0700 directory (CI clones into `mktemp -d`) that the other user
 * cannot traverse to load the CLI: in a private mount namespace it is bind-
 * mounted at a path any user can reach, and argv's paths into it point there.
 */
export function asOtherUser(uid: number, argv: string[]): string[] {
  if (publicRepo === undefined) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scr-repo-"));
    fs.chmodSync(dir, 0o755);
    process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    publicRepo = dir;
  }
  const at = publicRepo;
  const mapped = argv.map((a) =>
    a === REPO || a.startsWith(REPO + path.sep) ? at + a.slice(REPO.length) : a,
  );
  return inPrivateMounts(
    `mount --bind "$1" "$2" && shift 2 && exec setpriv --reuid=${uid} --regid=${uid} --clear-groups -- "$@"`,
    [REPO, at, ...mapped],
  );
}

/** How long one client command may take before it is killed (a hung pull must fail, not hang the suite). */
export const CLIENT_TIMEOUT_MS = 120_000;

/**
 * run() with a timeout: spawnSync blocks the event loop, so node:test's own
 * timeouts could not stop a hung client.
 */
export function runClient(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}) {
  return run(cmd, args, { ...opts, timeout: CLIENT_TIMEOUT_MS, killSignal: "SIGKILL" } as object);
}

/** runAny() with the same timeout. */
export function runClientAny(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}) {
  return runAny(cmd, args, { ...opts, timeout: CLIENT_TIMEOUT_MS, killSignal: "SIGKILL" } as object);
}

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(process.env.TMPDIR ?? "/tmp", `scr-${prefix}-`));
}
