/**
 * Opening files of an images tree that anyone could have put there: only
 * regular files are ever opened. A FIFO would block the reader forever, a
 * device may act on open, a socket cannot be opened at all; each is reported
 * by what it is instead. The type is checked (lstat, then stat for a link
 * that stays inside the root) before opening, and again on the descriptor,
 * opened non-blocking, so a FIFO swapped in between cannot hang the scan.
 *
 * Messages are worded to follow the file's path ("<path>: is a FIFO, …").
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** What a file is, as a message fragment ("a FIFO", "a directory"). */
export function kindOf(st: fs.Stats): string {
  if (st.isFile()) return "a regular file";
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSymbolicLink()) return "a symbolic link";
  return "not a regular file";
}

const notRegular = (st: fs.Stats) => `is ${kindOf(st)}, not a regular file; only regular files are read`;

/** Why a file could not be used, from the error of a system call on it. */
export function errorMessage(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case "EACCES":
    case "EPERM":
      return `cannot be read by uid ${process.getuid?.() ?? "?"} (permission denied)`;
    case "ELOOP":
      return "is a symbolic link loop";
    case "ENOENT":
      return "does not exist (or is a dangling symbolic link)";
    case "ENXIO":
      return "is a socket or a device without a reader, not a regular file";
    default:
      return `cannot be read: ${code ?? (e as Error).message}`;
  }
}

/** Is `target` (a real path) inside `realRoot`? */
export function isInside(realRoot: string, target: string): boolean {
  const r = path.relative(realRoot, target);
  return r === "" || (!r.startsWith("..") && !path.isAbsolute(r));
}

/**
 * A regular file's stats, following a symbolic link only when it stays inside
 * the root. `outside` marks a link leaving the root: the walk reports those.
 */
export type FileCheck = { stats: fs.Stats } | { message: string } | { outside: true };

export function checkRegular(realRoot: string, abs: string): FileCheck {
  try {
    let st = fs.lstatSync(abs);
    if (st.isSymbolicLink()) {
      if (!isInside(realRoot, fs.realpathSync(abs))) return { outside: true };
      st = fs.statSync(abs);
    }
    if (!st.isFile()) return { message: notRegular(st) };
    return { stats: st };
  } catch (e) {
    return { message: errorMessage(e) };
  }
}

/** Like checkRegular, and the file must be readable by this process (nginx's 403 otherwise). */
export function checkReadable(realRoot: string, abs: string): FileCheck {
  const c = checkRegular(realRoot, abs);
  if (!("stats" in c)) return c;
  try {
    fs.accessSync(abs, fs.constants.R_OK);
    return c;
  } catch (e) {
    return { message: errorMessage(e) };
  }
}

export type ReadResult = { bytes: Buffer } | { message: string } | { outside: true };

/**
 * Reads a regular file of at most `maxBytes`; `tooBig(size)` words the
 * problem for a larger one (which is never read whole).
 */
export function readRegular(
  realRoot: string,
  abs: string,
  maxBytes: number,
  tooBig: (size: number) => string,
): ReadResult {
  const c = checkRegular(realRoot, abs);
  if (!("stats" in c)) return c;
  if (c.stats.size > maxBytes) return { message: tooBig(c.stats.size) };
  let fd: number;
  try {
    fd = fs.openSync(abs, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  } catch (e) {
    return { message: errorMessage(e) };
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return { message: notRegular(st) };
    // Read to the end but never past the limit, even if the file grows meanwhile.
    const buf = Buffer.alloc(Math.min(st.size, maxBytes) + 1);
    let n = 0;
    for (let r; n < buf.length && (r = fs.readSync(fd, buf, n, buf.length - n, n)) > 0;) n += r;
    if (n > maxBytes) return { message: tooBig(n) };
    return { bytes: buf.subarray(0, n) };
  } catch (e) {
    return { message: errorMessage(e) };
  } finally {
    fs.closeSync(fd);
  }
}
