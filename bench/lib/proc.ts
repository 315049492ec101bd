/**
 * Processes for the benchmarks: servers pinned to a core, their output sent to
 * a file (never into this process: an access log at 50,000 lines/s would cost
 * the load generator's core), stopped by PID; and what /proc says about them.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";

/** The core servers run on; load generators run on the other one. */
export const SERVER_CORE = "1";
export const CLIENT_CORE = "0";

export interface Proc {
  pid: number;
  child: ChildProcess;
  logFile: string;
  /** SIGTERM, SIGKILL after 5 s; resolves when it has exited. */
  stop: () => Promise<void>;
}

/** Starts `cmd args` under `taskset -c core` (taskset execs, so the PID is the server's). */
export function startPinned(
  cmd: string,
  args: string[],
  opts: { core?: string; logFile: string; env?: NodeJS.ProcessEnv; cwd?: string },
): Proc {
  const fd = fs.openSync(opts.logFile, "a");
  const child = spawn("taskset", ["-c", opts.core ?? SERVER_CORE, cmd, ...args], {
    stdio: ["ignore", fd, fd],
    env: opts.env ?? process.env,
    cwd: opts.cwd,
  });
  fs.closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  const pid = child.pid;
  return {
    pid,
    child,
    logFile: opts.logFile,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      process.kill(pid, "SIGTERM");
      const t = setTimeout(() => {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          /* gone */
        }
      }, 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Runs a command to completion; throws with its output on failure. */
export function sh(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024, ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** One HTTP request (no keep-alive); status, headers and body length. */
export function probe(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path, headers, agent: false }, (res) => {
      let bytes = 0;
      res.on("data", (c: Buffer) => (bytes += c.length));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes }));
    });
    req.setTimeout(30000, () => req.destroy(new Error(`${method} ${path}: timeout`)));
    req.on("error", reject);
    req.end();
  });
}

/** Polls GET `path` until it answers 200; returns ms from `since` (a performance.now() value). */
export async function waitFor200(port: number, path: string, since: number, timeoutMs = 30000, proc?: Proc) {
  for (;;) {
    if (proc && proc.child.exitCode !== null) {
      throw new Error(`exited ${proc.child.exitCode} before answering:\n${tail(proc.logFile)}`);
    }
    try {
      const r = await probe(port, "GET", path);
      if (r.status === 200) return performance.now() - since;
    } catch {
      /* not listening yet */
    }
    if (performance.now() - since > timeoutMs)
      throw new Error(`no 200 on :${port}${path} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export function tail(file: string, n = 20): string {
  try {
    return fs.readFileSync(file, "utf8").split("\n").slice(-n).join("\n");
  } catch {
    return "";
  }
}

/** utime + stime of a process (all its threads), in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields after ")": state(0) ppid(1) ... utime(11) stime(12)
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}
const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

/** VmRSS and (from smaps_rollup) Pss of a process, in KiB. */
export function memoryKiB(pid: number): { rss: number; pss?: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  let pss: number | undefined;
  try {
    pss = Number(/^Pss:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"))?.[1] ?? NaN);
  } catch {
    /* no smaps_rollup */
  }
  return { rss, pss };
}

/** user + nice + system seconds spent on all CPUs (from /proc/stat), by every process. */
export function machineBusySeconds(): number {
  const line = fs.readFileSync("/proc/stat", "utf8").split("\n")[0];
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  return (f[0] + f[1] + f[2]) / CLK_TCK;
}

/** CPU seconds of this process's reaped children (a spawnSync'd load generator, once it has exited). */
export function reapedChildrenCpuSeconds(): number {
  const stat = fs.readFileSync("/proc/self/stat", "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[13]) + Number(f[14])) / CLK_TCK;
}

/**
 * Waits (at most `maxMs`) until the machine is quiet: less than `cores` of CPU
 * busy over a `windowMs` window. Other sessions' builds and tests share this
 * machine; starting a run in a quiet moment keeps them out of most runs.
 * Returns the busy cores of the last window.
 */
export async function waitForQuiet(maxMs = 3000, cores = 0.1, windowMs = 250): Promise<number> {
  const deadline = performance.now() + maxMs;
  for (;;) {
    const b0 = machineBusySeconds();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, windowMs));
    const busy = (machineBusySeconds() - b0) / ((performance.now() - t0) / 1000);
    if (busy < cores || performance.now() > deadline) return busy;
  }
}
