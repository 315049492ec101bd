/**
 * Finds the image sources under an images root: skopeo `dir:` tag directories
 * (any directory holding a manifest.json) and OCI image layouts (any directory
 * holding an `oci-layout` file). Symbolic links are never followed while
 * walking; one that points outside the root, or nowhere, is reported.
 *
 * A layout's own subdirectories (other than `blobs`) are walked too: a tag
 * directory put inside a layout must not be hidden by it (when both tag the
 * same name, scan reports the duplicate). Names are read as bytes: one that
 * is not UTF-8 cannot be a repository, a tag or a blob, and is reported as
 * such rather than mangled into a path that does not exist.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { errorMessage, isInside } from "./files";
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
  warnings: Problem[];
}

const HEX64 = /^[a-f0-9]{64}$/;

/** Walks `root` depth-first in sorted order (so the result is deterministic). */
export function walk(root: string): WalkResult {
  const out: WalkResult = { tagDirs: [], layouts: [], problems: [], warnings: [] };
  const realRoot = fs.realpathSync(root);
  const visit = (rel: string) => {
    const abs = rel ? path.join(root, rel) : root;
    let raw: fs.Dirent<Buffer>[];
    try {
      raw = fs.readdirSync(abs, { withFileTypes: true, encoding: "buffer" });
    } catch (e) {
      out.problems.push({ file: rel || ".", message: `cannot read directory: ${errorMessage(e)}` });
      return;
    }
    const entries: { name: string; dirent: fs.Dirent<Buffer> }[] = [];
    for (const dirent of raw) {
      const name = dirent.name.toString("utf8");
      if (Buffer.from(name, "utf8").equals(dirent.name)) {
        entries.push({ name, dirent });
        continue;
      }
      // A directory could have been a repository or tag; a file is merely ignored.
      (dirent.isDirectory() ? out.problems : out.warnings).push({
        file: join(rel, escapeName(dirent.name)),
        message: dirent.isDirectory()
          ? "name is not valid UTF-8; it cannot be a repository or tag and is skipped"
          : "name is not valid UTF-8; the file is ignored",
      });
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const names = entries.map((e) => e.name);
    for (const e of entries) {
      if (e.dirent.isSymbolicLink())
        checkSymlink(realRoot, path.join(abs, e.name), join(rel, e.name), out.problems);
    }
    const isLayout = names.includes("oci-layout");
    if (isLayout) out.layouts.push(rel);
    else if (names.includes("manifest.json")) {
      out.tagDirs.push({ rel, files: names });
      return;
    } else if (names.includes("index.json") && names.includes("blobs")) {
      out.warnings.push({
        file: rel || ".",
        message:
          "looks like an OCI image layout (index.json, blobs/) but has no oci-layout file; it is not served",
      });
      return;
    } else if (entries.some((e) => !e.dirent.isDirectory() && (e.name === "version" || HEX64.test(e.name)))) {
      out.warnings.push({
        file: rel || ".",
        message:
          "looks like a skopeo dir: tag directory but has no manifest.json (an interrupted copy?); it is not served",
      });
    }
    for (const e of entries) {
      // Dot-directories (.git, .cache) can never be repository names; skip them.
      if (!e.dirent.isDirectory() || e.name.startsWith(".")) continue;
      if (isLayout && e.name === "blobs") continue;
      visit(join(rel, e.name));
    }
  };
  visit("");
  return out;
}

const join = (a: string, b: string) => (a ? `${a}/${b}` : b);

/** Printable ASCII stays; every other byte becomes \xNN (so the name can be found with ls -b). */
function escapeName(name: Buffer): string {
  let s = "";
  for (const b of name)
    s +=
      b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`;
  return s;
}

/** A link whose target resolves outside the root is a problem; it is never used. */
function checkSymlink(realRoot: string, abs: string, rel: string, problems: Problem[]) {
  let target: string;
  try {
    target = fs.realpathSync(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const message =
      code === "ELOOP"
        ? "is a symbolic link loop"
        : code === "ENOENT"
          ? "is a dangling symbolic link"
          : `is a symbolic link that cannot be resolved: ${errorMessage(e)}`;
    problems.push({ file: rel, message });
    return;
  }
  if (!isInside(realRoot, target)) {
    problems.push({
      file: rel,
      message: `is a symbolic link to ${target}, outside the images root; it is not followed`,
    });
  }
}
