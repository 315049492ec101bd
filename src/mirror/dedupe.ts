/**
 * Hardlinks identical blobs across an images tree. Files are candidates when
 * their name is a digest (`<hex>` and `<hex>.manifest.json` in dir: trees,
 * `blobs/sha256/<hex>` in OCI layouts); a file is linked only after its
 * content has been hashed and found to be that digest, so a damaged copy is
 * never spread. Each replacement is atomic (link to a temp name, rename over).
 *
 * Bytes saved are counted exactly: a replaced file frees its bytes only when
 * every link to it was inside the tree (and so was replaced).
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export interface DedupeResult {
  /** Paths (relative to root) now linked to another copy. */
  linked: number;
  /** Bytes no longer stored twice. */
  bytesSaved: number;
  /** Files named by a digest that their content does not hash to (left alone). */
  mismatched: string[];
}

const DIGEST_NAME = /^([a-f0-9]{64})(?:\.manifest\.json)?$/;

interface Candidate {
  rel: string;
  dev: number;
  ino: number;
  nlink: number;
  size: number;
}

/** Every file under root named by a digest, grouped by that digest. Dot-directories are skipped. */
function candidates(root: string): Map<string, Candidate[]> {
  const byDigest = new Map<string, Candidate[]>();
  const visit = (rel: string) => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      if (e.name.startsWith(".")) continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) visit(r);
      else if (e.isFile()) {
        const m = DIGEST_NAME.exec(e.name);
        if (!m) continue;
        const st = fs.statSync(path.join(root, r));
        const list = byDigest.get(m[1]) ?? [];
        list.push({ rel: r, dev: st.dev, ino: st.ino, nlink: st.nlink, size: st.size });
        byDigest.set(m[1], list);
      }
    }
  };
  visit("");
  return byDigest;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 }))
    hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Hardlinks every set of identical digest-named files under `root`. */
export async function dedupeTree(root: string): Promise<DedupeResult> {
  const result: DedupeResult = { linked: 0, bytesSaved: 0, mismatched: [] };
  for (const [hex, files] of candidates(root)) {
    const inodes = new Map<string, Candidate[]>();
    for (const f of files) {
      const key = `${f.dev}:${f.ino}`;
      inodes.set(key, [...(inodes.get(key) ?? []), f]);
    }
    if (inodes.size < 2) continue;
    // Inodes whose content is the digest, most-linked first (fewest files to replace).
    const good: Candidate[][] = [];
    for (const paths of inodes.values()) {
      if ((await sha256File(path.join(root, paths[0].rel))) === hex) good.push(paths);
      else result.mismatched.push(...paths.map((p) => p.rel));
    }
    good.sort((a, b) => b[0].nlink - a[0].nlink || (a[0].rel < b[0].rel ? -1 : 1));
    const keep = good.shift();
    if (!keep) continue;
    for (const paths of good) {
      if (paths[0].dev !== keep[0].dev) continue; // another filesystem: cannot link
      for (const p of paths) {
        const target = path.join(root, p.rel);
        const tmp = path.join(path.dirname(target), `.${path.basename(target)}.link`);
        fs.rmSync(tmp, { force: true });
        fs.linkSync(path.join(root, keep[0].rel), tmp);
        fs.renameSync(tmp, target);
        result.linked++;
      }
      if (paths[0].nlink === paths.length) result.bytesSaved += paths[0].size;
    }
  }
  result.mismatched.sort();
  return result;
}
