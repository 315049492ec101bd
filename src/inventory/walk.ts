/**
 * Finds the image sources under an images root: skopeo `dir:` tag directories
 * (any directory holding a manifest.json) and OCI image layouts (any directory
 * holding an `oci-layout` file). Symbolic links are never followed while
 * walking; one that points outside the root is reported.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Problem } from "./model";

export interface TagDir {
  /** Path relative to root, `/`-separated. */
  rel: string;
  /** File names in the directory. */
  files: string[];
}

export interface WalkResult {
  tagDirs: TagDir[];
  layouts: string[];
  problems: Problem[];
}

export const toPosix = (p: string) => p.split(path.sep).join("/");

/** Walks `root` depth-first in sorted order (so the result is deterministic). */
export function walk(root: string): WalkResult {
  const out: WalkResult = { tagDirs: [], layouts: [], problems: [] };
  const realRoot = fs.realpathSync(root);
  const visit = (rel: string) => {
    const abs = rel ? path.join(root, rel) : root;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(abs, { withFileTypes: true });
    } catch (e) {
      out.problems.push({ file: rel || ".", message: `cannot read directory: ${(e as Error).message}` });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const names = entries.map((e) => e.name);
    for (const e of entries) {
      if (e.isSymbolicLink()) checkSymlink(realRoot, path.join(abs, e.name), join(rel, e.name), out.problems);
    }
    if (names.includes("oci-layout")) {
      out.layouts.push(rel);
      return;
    }
    if (names.includes("manifest.json")) {
      out.tagDirs.push({ rel, files: names });
      return;
    }
    for (const e of entries) {
      // Dot-directories (.git, .cache) can never be repository names; skip them.
      if (e.isDirectory() && !e.name.startsWith(".")) visit(join(rel, e.name));
    }
  };
  visit("");
  return out;
}

const join = (a: string, b: string) => (a ? `${a}/${b}` : b);

/** A link whose target resolves outside the root is a problem; it is never used. */
function checkSymlink(realRoot: string, abs: string, rel: string, problems: Problem[]) {
  let target: string;
  try {
    target = fs.realpathSync(abs);
  } catch {
    problems.push({ file: rel, message: "is a dangling symbolic link" });
    return;
  }
  if (!isInside(realRoot, target)) {
    problems.push({
      file: rel,
      message: `is a symbolic link to ${target}, outside the images root; it is not followed`,
    });
  }
}

export function isInside(realRoot: string, target: string): boolean {
  const r = path.relative(realRoot, target);
  return r === "" || (!r.startsWith("..") && !path.isAbsolute(r));
}
