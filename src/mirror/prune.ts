/**
 * `--prune`: removes the tag directories of the mirror's layout that the list
 * no longer names. Only trees under a host directory (`ROOT/<host>/…`, the
 * layout `mirror` writes) are considered; anything else under ROOT — a tree
 * that is not host-prefixed, an OCI layout — is never touched. A tag is
 * renamed to a dot-directory before it is deleted, so no half tag is seen;
 * directories left empty are removed up to ROOT.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { hostOfRepository } from "./reference";

/** Tag directories (holding manifest.json) under host directories, relative to root, sorted. */
export function mirroredTagPaths(root: string): string[] {
  const out: string[] = [];
  const visit = (rel: string) => {
    const entries = fs.readdirSync(path.join(root, rel), { withFileTypes: true });
    if (entries.some((e) => e.name === "oci-layout")) return;
    if (rel.includes("/") && entries.some((e) => e.isFile() && e.name === "manifest.json")) {
      out.push(rel);
      return;
    }
    for (const e of entries)
      if (e.isDirectory() && !e.name.startsWith(".")) visit(rel ? `${rel}/${e.name}` : e.name);
  };
  if (!fs.existsSync(root)) return out;
  for (const e of fs.readdirSync(root, { withFileTypes: true }))
    if (e.isDirectory() && hostOfRepository(`${e.name}/x`) !== undefined) visit(e.name);
  return out.sort();
}

/** Removes every mirrored tag directory not in `keep`; returns the removed paths (relative). */
export function pruneTree(root: string, keep: ReadonlySet<string>): string[] {
  const removed: string[] = [];
  for (const rel of mirroredTagPaths(root)) {
    if (keep.has(rel)) continue;
    const dir = path.join(root, ...rel.split("/"));
    const gone = path.join(path.dirname(dir), `.${path.basename(dir)}.removed`);
    fs.rmSync(gone, { recursive: true, force: true });
    fs.renameSync(dir, gone);
    fs.rmSync(gone, { recursive: true, force: true });
    removed.push(rel);
    for (let d = path.dirname(dir); path.relative(root, d) !== ""; d = path.dirname(d)) {
      if (fs.readdirSync(d).length) break;
      fs.rmdirSync(d);
    }
  }
  return removed;
}
