/**
 * The plan: where each reference lands in the images tree, and what skopeo
 * copies for it. Pure.
 *
 * Layout rule: `ROOT/<host>/<path>/<tag>/` — the registry then serves the
 * image as `<host>/<path>:<tag>`, its original name under the node wiring.
 * A digest-only reference `host/path@sha256:HEX` lands in the tag directory
 * `sha256-HEX` (tags cannot hold `:`): the registry serves every manifest of a
 * repository by digest, so `host/path@sha256:HEX` pulls by its original name.
 * A reference with a tag and a digest is copied by the digest into the tag's
 * directory, and the tag is checked to still point there.
 */
import * as path from "node:path";
import { canonicalReference, servedRepository, type ImageReference } from "./reference";

export interface MirrorItem {
  ref: ImageReference;
  /** `host/path[:tag][@digest]`. */
  canonical: string;
  /** What skopeo copies: `host/path@digest` when pinned, else `host/path:tag`. */
  source: string;
  /** The tag directory relative to ROOT, `/`-separated (`docker.io/library/alpine/3.19`). */
  tagPath: string;
  /** The digest the copy must have, when the reference pins one. */
  digest?: string;
  /** For tag + digest: `host/path:tag`, whose digest is checked against the pinned one. */
  checkTag?: string;
}

/** The tag directory name of a reference: its tag, or `sha256-HEX` for a digest-only one. */
export function tagDirName(r: ImageReference): string {
  return r.tag ?? r.digest!.replace(":", "-");
}

export function planItem(r: ImageReference): MirrorItem {
  const name = `${r.host}/${r.path}`;
  const item: MirrorItem = {
    ref: r,
    canonical: canonicalReference(r),
    source: r.digest ? `${name}@${r.digest}` : `${name}:${r.tag}`,
    tagPath: `${servedRepository(r)}/${tagDirName(r)}`,
  };
  if (r.digest) item.digest = r.digest;
  if (r.digest && r.tag) item.checkTag = `${name}:${r.tag}`;
  return item;
}

/**
 * One item per tag directory, in the order given. The same image listed twice
 * is one item; two references that would fill one directory differently
 * (`a:1` and `a:1@sha256:…`) are a problem naming both.
 */
export function planMirror(refs: readonly ImageReference[]): { items: MirrorItem[]; problems: string[] } {
  const byPath = new Map<string, MirrorItem>();
  const problems: string[] = [];
  for (const r of refs) {
    const item = planItem(r);
    const seen = byPath.get(item.tagPath);
    if (!seen) byPath.set(item.tagPath, item);
    else if (seen.canonical !== item.canonical)
      problems.push(`"${seen.ref.input}" and "${r.input}" both go to ${item.tagPath}; list one of them`);
  }
  return { items: [...byPath.values()], problems };
}

/** The temp directory a copy lands in before it is renamed into place (a dot-dir: never scanned). */
export function partialDir(tagDir: string): string {
  return path.join(path.dirname(tagDir), `.${path.basename(tagDir)}.partial`);
}
