import assert from "node:assert/strict";
import { test } from "node:test";
import { entryBytes, filesHash, shardFiles } from "../../src/kubernetes/configMaps";

test("small file sets stay in one shard", () => {
  const shards = shardFiles({ "nginx.conf": "events {}\n", "registry.conf": "x" }, 1000);
  assert.equal(shards.length, 1);
  assert.deepEqual(Object.keys(shards[0].files), ["nginx.conf", "registry.conf"]);
  assert.equal(shards[0].bytes, entryBytes("nginx.conf", "events {}\n") + entryBytes("registry.conf", "x"));
});

test("files are packed first-fit in name order, no shard over the limit, nothing lost", () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 50; i++)
    files[`part-${String(i).padStart(3, "0")}.conf`] = "y".repeat(100 + ((i * 37) % 300));
  const max = 1500;
  const shards = shardFiles(files, max);
  assert.ok(shards.length > 5);
  const seen: Record<string, string> = {};
  for (const s of shards) {
    assert.ok(s.bytes <= max, `shard ${s.index} has ${s.bytes} bytes`);
    const sum = Object.entries(s.files).reduce((n, [k, v]) => n + entryBytes(k, v), 0);
    assert.equal(sum, s.bytes);
    for (const [k, v] of Object.entries(s.files)) {
      assert.ok(!(k in seen), `${k} twice`);
      seen[k] = v;
    }
  }
  assert.deepEqual(seen, files);
  assert.deepEqual(
    shards.map((s) => s.index),
    shards.map((_, i) => i),
  );
  // The same files added in the reverse order: the same shards, their keys in the same order, byte for byte.
  const reversed = Object.fromEntries(Object.entries(files).reverse());
  assert.notDeepEqual(Object.keys(reversed), Object.keys(files));
  assert.equal(JSON.stringify(shardFiles(reversed, max)), JSON.stringify(shards));
});

test("bytes are counted as UTF-8", () => {
  assert.equal(entryBytes("a", "é"), 3);
});

test("a file bigger than one ConfigMap, or an invalid key, is refused", () => {
  assert.throws(
    () => shardFiles({ "big.conf": "x".repeat(2000) }, 1000),
    /rendered file "big.conf" is 2008 bytes/,
  );
  assert.throws(() => shardFiles({ "sub/dir.conf": "x" }, 1000), /cannot be a ConfigMap key/);
  assert.throws(() => shardFiles({ "..data": "x" }, 1000), /cannot be a ConfigMap key/);
  assert.throws(() => shardFiles({}, 1000), /no files/);
});

test("filesHash changes with any name or content, not with insertion order", () => {
  const a = filesHash({ x: "1", y: "2" });
  assert.match(a, /^[a-f0-9]{64}$/);
  assert.equal(filesHash({ y: "2", x: "1" }), a);
  assert.notEqual(filesHash({ x: "1", y: "3" }), a);
  assert.notEqual(filesHash({ x: "1", z: "2" }), a);
  // Length prefixes: moving bytes between name and content changes the hash.
  assert.notEqual(filesHash({ ab: "c" }), filesHash({ a: "bc" }));
});
