/**
 * What the tests ask Linux's /proc about the processes they start: children,
 * process groups, users. A test that stops something must prove that every
 * process it started is gone, not only the one it holds the PID of: a child
 * left running (skopeo after its shell, a worker after its master) is exactly
 * the bug such a test is there to catch.
 */
import * as fs from "node:fs";

export interface Proc {
  pid: number;
  comm: string;
  /** R, S, D, T, Z, … */
  state: string;
  ppid: number;
  pgrp: number;
  /** Start time in clock ticks since boot: tells a PID from its reuse. */
  start: string;
}

/** /proc/PID/stat, split after the command name (which may hold spaces and parentheses); undefined once gone. */
export function procStat(pid: number): Proc | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return undefined;
  }
  const comm = text.slice(text.indexOf("(") + 1, text.lastIndexOf(")"));
  // After ")": state(0) ppid(1) pgrp(2) … starttime(19)
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { pid, comm, state: f[0], ppid: Number(f[1]), pgrp: Number(f[2]), start: f[19] };
}

/** A live process: not gone, not a zombie (which holds nothing), and not a later process with a reused PID. */
export function isAlive(p: Proc): boolean {
  const now = procStat(p.pid);
  return now !== undefined && now.state !== "Z" && now.start === p.start;
}

/** Every live (non-zombie) process on the machine. */
function allProcs(): Proc[] {
  const out: Proc[] = [];
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const p = procStat(Number(d));
    if (p && p.state !== "Z") out.push(p);
  }
  return out;
}

/** The direct children of `pid` that are alive. */
export function childPids(pid: number): number[] {
  return allProcs()
    .filter((p) => p.ppid === pid)
    .map((p) => p.pid);
}

/** Every live process of process group `pgid`. */
export function processGroup(pgid: number): Proc[] {
  return allProcs().filter((p) => p.pgrp === pgid);
}

/**
 * Waits until no live process is left in any of the process groups `pgids`,
 * polling (a group ends when its last member has been reaped or has become a
 * zombie); returns what is still there after `timeoutMs` (empty: all gone).
 */
export async function waitGroupsGone(pgids: number[], timeoutMs = 10_000): Promise<Proc[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = allProcs().filter((p) => pgids.includes(p.pgrp));
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The real, effective, saved and filesystem UIDs of a process (/proc/PID/status `Uid:`). */
export function uidsOf(pid: number): number[] {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$/m.exec(status);
  if (!m) throw new Error(`/proc/${pid}/status has no Uid line`);
  return m.slice(1).map(Number);
}

/** Whether a process with this PID exists (signal 0), for daemons known only by a pid file. */
function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops a daemon a test started through a README line (nginx, known by its
 * pid file): SIGQUIT (nginx's graceful stop), up to 10 s, then SIGKILL.
 */
export async function stopDaemon(pid: number): Promise<void> {
  if (!pidExists(pid)) return;
  process.kill(pid, "SIGQUIT");
  for (let i = 0; i < 200 && pidExists(pid); i++) await new Promise((r) => setTimeout(r, 50));
  if (pidExists(pid)) process.kill(pid, "SIGKILL");
}
