/**
 * `--prune`: removes the tag directories of the mirror's layout that the list
 * no longer names. Only trees under a host directory (`ROOT/<host>/…`, the
 * layout `mirror` writes) are considered; anything else under ROOT — a tree
 * that is not host-prefixed, an OCI layout — is never touched. A tag is
 * renamed to a dot-directory before it is deleted, so no half tag is seen;
 * directories left empty are removed up to ROOT.
 *
 * What refers to a kept image stays with it: a tag that `refersTo` says
 * refers to a digest (the provenance tags of src/provenance/tags.ts, which
 * the callers pass in: provenance stands on this folder, not under it) is kept
 * while its repository keeps a manifest of that digest (a tag's, a platform
 * manifest's, or a kept referrer's); what referred to an image no longer
 * listed, or to an older digest of a tag, goes.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { sha256 } from "../inventory/manifest";
import { hostOfRepository } from "./reference";

/** The digest a tag refers to (a signature's, an SBOM's), or undefined for an image's own tag. */
export type RefersTo = (tag: string) => string | undefined;

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

/** The digests of the manifests a tag directory holds: its manifest.json and its `<hex>.manifest.json` children. */
function heldDigests(dir: string): string[] {
  const out: string[] = [];
  for (const name of fs.readdirSync(dir)) {
    if (name === "manifest.json") out.push(sha256(fs.readFileSync(path.join(dir, name))));
    const m = /^([a-f0-9]{64})\.manifest\.json$/.exec(name);
    if (m) out.push(`sha256:${m[1]}`);
  }
  return out;
}

/** `keep`, and the tags that refer to what it keeps (see the header). */
function withReferring(
  root: string,
  all: readonly string[],
  keep: ReadonlySet<string>,
  refersTo: RefersTo,
): Set<string> {
  const kept = new Set(all.filter((rel) => keep.has(rel)));
  const held = new Map<string, Set<string>>();
  const hold = (rel: string) => {
    const repo = path.posix.dirname(rel);
    const set = held.get(repo) ?? new Set<string>();
    for (const d of heldDigests(path.join(root, ...rel.split("/")))) set.add(d);
    held.set(repo, set);
  };
  kept.forEach(hold);
  for (let grew = true; grew;) {
    grew = false;
    for (const rel of all) {
      if (kept.has(rel)) continue;
      const subject = refersTo(path.posix.basename(rel));
      if (subject !== undefined && held.get(path.posix.dirname(rel))?.has(subject)) {
        kept.add(rel);
        hold(rel);
        grew = true;
      }
    }
  }
  return kept;
}

/**
 * Removes every mirrored tag directory not in `keep`, nor referring to what it
 * keeps; returns the removed paths (relative).
 */
export function pruneTree(root: string, keep: ReadonlySet<string>, refersTo: RefersTo): string[] {
  const removed: string[] = [];
  const all = mirroredTagPaths(root);
  const kept = withReferring(root, all, keep, refersTo);
  for (const rel of all) {
    if (kept.has(rel)) continue;
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
