/**
 * `serve` must never outlive whoever started it, and must never leave an
 * nginx behind. Supervisors and `npx` stop a program by signalling the process
 * they started; when that is a wrapper (npx → sh → node), the wrapper exits and
 * serve is silently re-parented, still holding the port. So serve watches its
 * parent (the live parent PID, not Node's value cached at start) and stops when
 * it changes; and nginx's master is started with a parent-death signal
 * (Linux prctl PR_SET_PDEATHSIG, through util-linux `setpriv`), so that even a
 * serve killed with SIGKILL takes its nginx along.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** The current parent PID: /proc/self/stat on Linux (process.ppid is read once, at start). */
export function parentPid(): number {
  try {
    const stat = fs.readFileSync("/proc/self/stat", "latin1");
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ")".
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return process.ppid;
  }
}

/**
 * Calls `onGone` once the process that started us is gone. Returns a function
 * that stops watching. A parent of 0 or 1 (started by init, or PID 1 in a
 * container) is never "gone".
 */
export function watchParent(onGone: () => void, intervalMs = 250): () => void {
  const first = parentPid();
  if (first <= 1) return () => undefined;
  const proc = fs.existsSync("/proc/self/stat");
  const gone = (): boolean => {
    if (proc) return parentPid() !== first;
    try {
      process.kill(first, 0); // without /proc: does the parent still exist?
      return false;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === "ESRCH";
    }
  };
  const timer = setInterval(() => {
    if (!gone()) return;
    clearInterval(timer);
    onGone();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * The argv prefix that makes a child receive `signal` when we die, or [] where
 * that is not available (no setpriv, or one without --pdeathsig): then only
 * the signal handlers and the parent watch stop nginx.
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
