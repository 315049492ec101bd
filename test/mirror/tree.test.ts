/** dedupe and prune on small hand-made trees (the e2e test runs them on mirrored images). */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, test } from "node:test";
import { sha256 } from "../../src/inventory/manifest";
import { dedupeTree } from "../../src/mirror/dedupe";
import { mirroredTagPaths, pruneTree } from "../../src/mirror/prune";
import { tmpDir } from "../support/tools";

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const scratch = () => {
  const d = tmpDir(`mirror-tree-${process.pid}`);
  dirs.push(d);
  return d;
};

function put(root: string, rel: string, content: Buffer | string) {
  const p = path.join(root, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, content);
}
const hex = (b: Buffer) => sha256(b).slice(7);
const ino = (root: string, rel: string) => fs.statSync(path.join(root, rel)).ino;

test("dedupe links identical blobs, counts exactly the bytes freed, and leaves damaged copies alone", async () => {
  const root = scratch();
  const big = Buffer.alloc(100_000, 7);
  const small = Buffer.from("small blob");
  const h = hex(big);
  for (const tag of ["a/1", "a/2", "b/1"]) put(root, `${tag}/${h}`, big);
  put(root, `a/1/${hex(small)}`, small);
  put(root, `b/1/${hex(small)}`, small);
  // Already hardlinked within the tree: no bytes to gain between these two.
  fs.linkSync(
    path.join(root, `a/1/${hex(small)}`),
    path.join(root, `c/x`.replace("c/x", `a/2/${hex(small)}`)),
  );
  // Linked from outside the tree: replacing it frees nothing.
  const outside = scratch();
  put(root, `d/1/${hex(small)}`, small);
  fs.linkSync(path.join(root, `d/1/${hex(small)}`), path.join(outside, "keep"));
  // Named by a digest it does not have.
  put(root, `e/1/${h}`, Buffer.alloc(100_000, 8));
  // Dot-directories (partial copies) are never touched.
  put(root, `.a.partial/${h}`, big);

  const r = await dedupeTree(root);
  assert.deepEqual(r.mismatched, [`e/1/${h}`]);
  assert.equal(r.bytesSaved, 2 * big.length + small.length, "two copies of big and b/1's small were freed");
  assert.equal(r.linked, 4, "a/2 + b/1 big, b/1 small, d/1 small");
  for (const rel of [`a/2/${h}`, `b/1/${h}`]) assert.equal(ino(root, rel), ino(root, `a/1/${h}`));
  for (const rel of [`b/1/${hex(small)}`, `d/1/${hex(small)}`])
    assert.equal(ino(root, rel), ino(root, `a/1/${hex(small)}`));
  assert.notEqual(ino(root, `.a.partial/${h}`), ino(root, `a/1/${h}`));
  assert.deepEqual(fs.readFileSync(path.join(root, `b/1/${h}`)), big);

  const again = await dedupeTree(root);
  assert.deepEqual([again.linked, again.bytesSaved], [0, 0], "a second run has nothing to do");
});

test("prune removes only unlisted tags of host directories, and the directories left empty", () => {
  const root = scratch();
  for (const t of [
    "up.invalid/x/1",
    "up.invalid/x/2",
    "up.invalid/y/z/1",
    "localhost_5000/a/1",
    "plain/repo/1",
    "busybox/1",
  ])
    put(root, `${t}/manifest.json`, "{}");
  put(root, "up.invalid/layout/oci-layout", "{}");
  assert.deepEqual(mirroredTagPaths(root), [
    "localhost_5000/a/1",
    "up.invalid/x/1",
    "up.invalid/x/2",
    "up.invalid/y/z/1",
  ]);
  const removed = pruneTree(root, new Set(["up.invalid/x/1"]), () => undefined); // no tag here refers to another
  assert.deepEqual(removed, ["localhost_5000/a/1", "up.invalid/x/2", "up.invalid/y/z/1"]);
  assert.ok(fs.existsSync(path.join(root, "up.invalid/x/1/manifest.json")));
  assert.ok(!fs.existsSync(path.join(root, "up.invalid/y")), "emptied directories are removed");
  assert.ok(!fs.existsSync(path.join(root, "localhost_5000")));
  for (const kept of [
    "plain/repo/1/manifest.json",
    "busybox/1/manifest.json",
    "up.invalid/layout/oci-layout",
  ])
    assert.ok(fs.existsSync(path.join(root, kept)), `${kept} is not the mirror's`);
});
