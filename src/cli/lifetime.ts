/**
 * `serve` must never outlive whoever started it, and must never leave an
 * nginx behind. Users and supervisors stop a program by signalling the process
 * they started and hold the PID of; with `npx` that is not serve but a wrapper
 * chain (npx → `sh -c` → node). When npx is killed (SIGKILL gives it no chance
 * to pass anything on) the `sh` between stays alive, so serve's own parent never
 * changes: watching only the parent misses it.
 *
 * So serve watches its starter chain: its parent, and every further ancestor
 * whose command line carries serve's own (the program name and its arguments,
 * quotes aside) — the wrappers that exist only to run it. It stops when any of
 * them is gone (exited, a zombie, or its PID reused) or when its parent
 * changes. The chain ends at the first ancestor that does not carry the
 * command (the interactive shell, the supervisor, the CI step's script), so a
 * shell that merely backgrounded `npx … &` and moved on is not mistaken for a
 * wrapper. PID 1 is never watched.
 *
 * nginx's master is started with a parent-death signal (Linux prctl
 * PR_SET_PDEATHSIG, through util-linux `setpriv`), so that even a serve killed
 * with SIGKILL takes its nginx along.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** What identifies a live process: its PID and its start time (a reused PID has another). */
interface Ancestor {
  pid: number;
  start: string;
}

interface ProcStat {
  ppid: number;
  state: string;
  start: string;
}

/** /proc/PID/stat: "pid (comm) state ppid … starttime" (comm may hold spaces and parentheses). */
function procStat(pid: number | "self"): ProcStat | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: f[0], ppid: Number(f[1]), start: f[19] };
  } catch {
    return undefined;
  }
}

/** The current parent PID: /proc/self/stat on Linux (process.ppid is read once, at start). */
export function parentPid(): number {
  return procStat("self")?.ppid ?? process.ppid;
}

/** A command line with quoting characters removed and runs of blanks made one space. */
function normalized(argv: readonly string[]): string {
  return argv
    .join(" ")
    .replace(/['"\\]/g, "")
    .replace(/\s+/g, " ")
    .trim();
}

function cmdline(pid: number): string | undefined {
  try {
    return normalized(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0"));
  } catch {
    return undefined;
  }
}

/**
 * What a wrapper's command line carries of ours: the program's name (the bin,
 * without `.js`) and the arguments after it, e.g.
 * `static-container-registry serve ./images --listen 127.0.0.1:5000`.
 */
export function ownCommand(argv: readonly string[] = process.argv): { name: string; args: string } {
  return {
    name: path.basename(argv[1] ?? "").replace(/\.[cm]?js$/, ""),
    args: normalized(argv.slice(2)),
  };
}

/** Whether a command line (normalized) runs ours. */
export function carriesCommand(line: string, own: { name: string; args: string }): boolean {
  return own.name !== "" && line.includes(own.name) && line.includes(own.args);
}

/**
 * The starter chain as it is now: the parent, then each ancestor whose
 * command line carries ours, up to (not including) PID 1.
 */
export function starterChain(own = ownCommand()): Ancestor[] {
  const chain: Ancestor[] = [];
  let pid = parentPid();
  while (pid > 1) {
    const st = procStat(pid);
    if (!st) break;
    if (chain.length > 0) {
      const line = cmdline(pid);
      if (line === undefined || !carriesCommand(line, own)) break;
    }
    chain.push({ pid, start: st.start });
    pid = st.ppid;
  }
  return chain;
}

function gone(a: Ancestor): boolean {
  const st = procStat(a.pid);
  return !st || st.state === "Z" || st.state === "X" || st.start !== a.start;
}

/**
 * Calls `onGone` once whoever started us is gone (see the header). Returns a
 * function that stops watching. Started by init (or as PID 1 in a container),
 * nothing is watched. Without /proc, the parent PID alone is watched.
 */
export function watchStarter(onGone: () => void, intervalMs = 250): () => void {
  const proc = procStat("self") !== undefined;
  const first = parentPid();
  if (first <= 1) return () => undefined;
  const chain = proc ? starterChain() : [];
  const isGone = (): boolean => {
    if (proc) return parentPid() !== first || chain.some(gone);
    try {
      process.kill(first, 0); // without /proc: does the parent still exist?
      return false;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === "ESRCH";
    }
  };
  const timer = setInterval(() => {
    if (!isGone()) return;
    clearInterval(timer);
    onGone();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * The argv prefix that makes a child receive `signal` when we die, or [] where
 * that is not available (no setpriv, or one without --pdeathsig): then only
 * the signal handlers and the starter watch stop nginx.
 */
export function parentDeathPrefix(signal = "TERM"): string[] {
  for (const dir of (process.env.PATH ?? "").split(":").concat(["/usr/bin", "/bin", "/usr/sbin", "/sbin"])) {
    const setpriv = dir && path.join(dir, "setpriv");
    if (!setpriv || !fs.existsSync(setpriv)) continue;
    const probe = spawnSync(setpriv, ["--pdeathsig", signal, "--", "true"], { stdio: "ignore" });
    return probe.status === 0 ? [setpriv, "--pdeathsig", signal, "--"] : [];
  }
  return [];
}
