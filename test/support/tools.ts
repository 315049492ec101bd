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
import * as path from "node:path";
import type { TestContext } from "node:test";

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
  if (p) return p;
  const msg = `${name} is not installed (apt-get install ${aptPackage(name)})`;
  if (inCI) throw new Error(`${msg}; CI must run every e2e test`);
  process.stderr.write(`\n*** SKIPPING: ${msg} ***\n`);
  t.skip(msg);
  return undefined;
}

function aptPackage(tool: string): string {
  return (
    {
      nginx: "nginx-light",
      ctr: "containerd",
      containerd: "containerd",
      "docker-registry": "docker-registry",
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
    if (proc && proc.exitCode !== null)
      throw new Error(`process exited with ${proc.exitCode} before listening`);
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

/** Start a long-running process, capture its output, and return a handle that stops it by PID. */
export function startProcess(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Server {
  const proc = spawn(cmd, args, {
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  if (proc.pid === undefined) throw new Error(`could not start ${cmd}`);
  const pid = proc.pid;
  return {
    pid,
    proc,
    output: () => out,
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

/** Run a command to completion; throws with its output when it fails. */
export function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024, ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  }
  return r;
}

/** Like run, but returns the result whatever the exit status. */
export function runAny(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024, ...opts });
  if (r.error) throw r.error;
  return r;
}

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(process.env.TMPDIR ?? "/tmp", `scr-${prefix}-`));
}
