/**
 * Directory trees in tests: one walker for listing, comparing and measuring
 * them, and the same tree built twice in two creation orders.
 *
 * "Same tree, same output" must be tested on two trees that differ in what a
 * program could wrongly depend on: the order things were added in (the tags
 * of an OCI layout's index.json, for one), the order the filesystem lists a
 * directory in, and file times. Running twice over one directory proves
 * nothing: all of these are the same both times. (Node's readdir sorts the
 * names itself, through libuv's scandir; the raw order matters to `find`, to
 * shell globs' callers that do not sort, and to fs.opendir.) ext4 lists a
 * directory in the order of its name hashes whatever the creation order;
 * tmpfs lists it newest first, so `inTwoOrders` builds its copies there
 * (/dev/shm) and checks that their raw listings really differ.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { tmpDir } from "./tools";

export interface TreeEntry {
  /** Path below the root, `/`-separated. */
  rel: string;
  abs: string;
  /** lstat: a symbolic link is itself, not what it points to. */
  stats: fs.Stats;
}

/** Every entry below `root`, depth first, each directory before its contents, names in byte order. */
export function walkTree(root: string): TreeEntry[] {
  const out: TreeEntry[] = [];
  const visit = (rel: string) => {
    for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const abs = path.join(root, r);
      const stats = fs.lstatSync(abs);
      out.push({ rel: r, abs, stats });
      if (stats.isDirectory()) visit(r);
    }
  };
  visit("");
  return out;
}

/** The files (not directories) below `root`, relative, sorted. */
export function listFiles(root: string): string[] {
  return walkTree(root)
    .filter((e) => !e.stats.isDirectory())
    .map((e) => e.rel);
}

/** The bytes of the regular files below `root` (0 when it does not exist). */
export function treeBytes(root: string): number {
  if (!fs.existsSync(root)) return 0;
  return walkTree(root).reduce((n, e) => n + (e.stats.isFile() ? e.stats.size : 0), 0);
}

/** rel → UTF-8 content of every regular file below `root`. */
export function treeText(root: string): Record<string, string> {
  return Object.fromEntries(
    walkTree(root)
      .filter((e) => e.stats.isFile())
      .map((e) => [e.rel, fs.readFileSync(e.abs, "utf8")]),
  );
}

export interface FileState {
  ino: number;
  mtimeMs: number;
  /** Permission bits. */
  mode: number;
  /** The content, as UTF-8. */
  text: string;
}

/** rel → inode, mtime, mode and content of every regular file below `root`: what was replaced, what was left alone. */
export function fileStates(root: string): Map<string, FileState> {
  return new Map(
    walkTree(root)
      .filter((e) => e.stats.isFile())
      .map((e) => [
        e.rel,
        {
          ino: e.stats.ino,
          mtimeMs: e.stats.mtimeMs,
          mode: e.stats.mode & 0o7777,
          text: fs.readFileSync(e.abs, "utf8"),
        },
      ]),
  );
}

/** Every directory listing below `root` in the order the filesystem returns it (opendir: unsorted). */
function rawListings(root: string): string[] {
  const out: string[] = [];
  const visit = (dir: string) => {
    const names: string[] = [];
    const handle = fs.opendirSync(dir);
    try {
      for (let e; (e = handle.readSync());) names.push(e.name);
    } finally {
      handle.closeSync();
    }
    out.push(`${path.relative(root, dir)}: ${names.join(" ")}`);
    for (const n of names) if (fs.lstatSync(path.join(dir, n)).isDirectory()) visit(path.join(dir, n));
  };
  visit(root);
  return out;
}

/** A scratch dir on tmpfs (see the header), else in the usual temp dir. */
function orderedScratch(prefix: string): string {
  for (const base of ["/dev/shm", process.env.TMPDIR ?? "/tmp"]) {
    try {
      if (fs.statfsSync(base).type === TMPFS_MAGIC) return fs.mkdtempSync(path.join(base, `scr-${prefix}-`));
    } catch {
      /* not there */
    }
  }
  return tmpDir(prefix);
}
const TMPFS_MAGIC = 0x01021994;

/**
 * Recreates the tree at `src` at `dest` (which must not exist), creating the
 * entries of each directory in byte order of their names, or in the reverse
 * order, and giving every file and directory the time `mtime`. Hard links stay
 * hard links and symbolic links stay links to the same target.
 */
function recreate(src: string, dest: string, reversed: boolean, mtime: Date): void {
  const inodes = new Map<number, string>();
  const dirs: string[] = [];
  const visit = (rel: string) => {
    const names = fs.readdirSync(path.join(src, rel)).sort();
    if (reversed) names.reverse();
    for (const name of names) {
      const r = path.join(rel, name);
      const from = path.join(src, r);
      const to = path.join(dest, r);
      const st = fs.lstatSync(from);
      if (st.isDirectory()) {
        fs.mkdirSync(to, { mode: st.mode & 0o7777 });
        visit(r);
        dirs.push(to);
      } else if (st.isSymbolicLink()) {
        fs.symlinkSync(fs.readlinkSync(from), to);
      } else if (st.isFile()) {
        const linked = st.nlink > 1 ? inodes.get(st.ino) : undefined;
        if (linked) fs.linkSync(linked, to);
        else {
          fs.copyFileSync(from, to);
          fs.chmodSync(to, st.mode & 0o7777);
          fs.utimesSync(to, mtime, mtime);
          inodes.set(st.ino, to);
        }
      } else throw new Error(`inTwoOrders: ${from} is neither a file, a directory nor a symbolic link`);
    }
  };
  fs.mkdirSync(dest);
  visit("");
  // Directories last: creating their entries changed their times.
  for (const d of [...dirs, dest]) fs.utimesSync(d, mtime, mtime);
}

/**
 * Builds a tree twice — into the same path, so that nothing an output records
 * about its location differs — and calls `use` on each, returning both results
 * for the caller to compare byte for byte. The first time `build` is called
 * with `reversed` false, every directory's entries are created in name order
 * and dated 2001; the second time `build` is told to add what it adds in the
 * reverse order, the entries are created in reverse order, dated now. Fails if
 * the two copies list in the same raw order (then the filesystem could not
 * show a difference).
 */
export async function inTwoOrders<T>(
  prefix: string,
  build: (root: string, reversed: boolean) => void,
  use: (root: string) => T | Promise<T>,
): Promise<[T, T]> {
  const base = orderedScratch(prefix);
  try {
    const root = path.join(base, "images");
    const results: T[] = [];
    const seen: string[][] = [];
    for (const [reversed, mtime] of [
      [false, new Date("2001-02-03T04:05:06Z")],
      [true, new Date()],
    ] as const) {
      const template = path.join(base, `template-${reversed}`);
      fs.mkdirSync(template);
      build(template, reversed);
      fs.rmSync(root, { recursive: true, force: true });
      recreate(template, root, reversed, mtime);
      seen.push(rawListings(root));
      results.push(await use(root));
    }
    assert.notDeepEqual(
      seen[1],
      seen[0],
      `the two copies of the tree list in the same order on ${base}: this filesystem cannot test order independence`,
    );
    return [results[0], results[1]];
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
}
