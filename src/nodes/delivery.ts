/**
 * What a delivery of the images dir to the nodes consists of: every file of
 * the tree with its sha256, path and size (the content set, whose list is the
 * set's identity), and the staging of exactly the files a node lacks for the
 * copy step. The component and the e2e test both stage with
 * {@link stageMissing}, so the test copies the very files the component would.
 *
 * Files whose name is their digest (skopeo `dir:` blobs, OCI `blobs/sha256/`)
 * are taken by name, as the scan does (it checks their size; `verify` hashes
 * them); every other file (manifests, `version`, `index.json`, `oci-layout`)
 * is hashed. The node checks every copied object against its name before it
 * adopts it.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export interface DeliveryEntry {
  /** sha256 of the content, hex. */
  hex: string;
  size: number;
  /** Path relative to the images dir, `/`-separated. */
  path: string;
}

export interface DeliveryPlan {
  imagesDir: string;
  entries: DeliveryEntry[];
  /** The list file's text: `<hex> <size> <path>` per line, sorted by path. */
  list: string;
  /** sha256 of `list`: the content set's id. */
  setId: string;
  /** Where each object's bytes are on this machine (hex → absolute path). */
  sources: Map<string, string>;
}

const HEX = /^[a-f0-9]{64}$/;
const SAFE_REL = /^[A-Za-z0-9._+@:/-]+$/;

/** sha256 of a file's bytes, hex (read in 1 MiB chunks). */
export function fileSha256(file: string): string {
  const h = createHash("sha256");
  const fd = fs.openSync(file, "r");
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest("hex");
}

/** Walks `imagesDir` (regular files only; symlinks are refused, as the scan does). */
export function planDelivery(imagesDir: string): DeliveryPlan {
  const entries: DeliveryEntry[] = [];
  const sources = new Map<string, string>();
  const walk = (rel: string) => {
    const dir = path.join(imagesDir, rel);
    for (const d of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = rel === "" ? d.name : `${rel}/${d.name}`;
      if (d.isDirectory()) walk(r);
      else if (d.isFile()) {
        if (!SAFE_REL.test(r) || r.split("/").includes(".."))
          throw new Error(`images dir: cannot deliver "${r}" (unexpected characters in a file name)`);
        const abs = path.join(imagesDir, r);
        const size = fs.statSync(abs).size;
        const hex = HEX.test(d.name) ? d.name : fileSha256(abs);
        entries.push({ hex, size, path: r });
        if (!sources.has(hex)) sources.set(hex, abs);
      } else {
        throw new Error(`images dir: "${r}" is not a regular file or directory; it cannot be delivered`);
      }
    }
  };
  walk("");
  const list = entries.map((e) => `${e.hex} ${e.size} ${e.path}\n`).join("");
  const setId = createHash("sha256").update(list).digest("hex");
  return { imagesDir, entries, list, setId, sources };
}

/** The plan of an images dir that does not exist (yet): no files. */
export function emptyDelivery(imagesDir: string): DeliveryPlan {
  return {
    imagesDir,
    entries: [],
    list: "",
    setId: createHash("sha256").update("").digest("hex"),
    sources: new Map(),
  };
}

/** The sha256 names in a node's answer to the prepare step (other lines are ignored). */
export function parseHave(stdout: string): Set<string> {
  return new Set(
    stdout
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => HEX.test(l)),
  );
}

export interface Staged {
  /** The directory to copy (its basename is the set id): `list` and `objects/<hex>`. */
  dir: string;
  /** The objects staged (what the node lacks). */
  missing: string[];
  bytes: number;
}

/**
 * Stages for one node the files it lacks: `<stagingRoot>/<node>/<setId>/`
 * holding the list and `objects/<hex>` (hardlinks when the filesystem allows,
 * else copies). Copied with CopyToRemote to the node's `incoming` dir, it
 * lands as `incoming/<setId>` (a directory without a trailing `/` goes to
 * `remotePath/<basename>`).
 */
export function stageMissing(
  plan: DeliveryPlan,
  have: Set<string>,
  stagingRoot: string,
  node: string,
): Staged {
  const dir = path.join(stagingRoot, node.replace(/[^A-Za-z0-9._-]/g, "_"), plan.setId);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, "objects"), { recursive: true });
  fs.writeFileSync(path.join(dir, "list"), plan.list);
  const missing: string[] = [];
  let bytes = 0;
  for (const [hex, src] of plan.sources) {
    if (have.has(hex)) continue;
    const dest = path.join(dir, "objects", hex);
    try {
      fs.linkSync(src, dest);
    } catch {
      fs.copyFileSync(src, dest);
    }
    missing.push(hex);
    bytes += fs.statSync(dest).size;
  }
  return { dir, missing, bytes };
}
