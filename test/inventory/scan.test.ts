import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import { scan, summarize, referrersOf } from "../../src/inventory";
import { tmpDir } from "../support/tools";
import { inTwoOrders } from "../support/trees";
import {
  blob,
  configBlob,
  dig,
  hex,
  imageManifest,
  indexManifest,
  writeLayout,
  writeMixedTree,
  writeTagDir,
} from "./tree";

const messages = (inv: { problems: { file: string; message: string }[] }) =>
  inv.problems.map((p) => `${p.file}: ${p.message}`);

describe("scan of skopeo dir: trees", () => {
  test("nested repository names, tags, dedup of blobs shared by hardlink or copy", async () => {
    const root = tmpDir("scan");
    const cfg = configBlob();
    const base = blob("base layer");
    const top = blob("top layer");
    const m1 = imageManifest(cfg, [base]);
    const m2 = imageManifest(cfg, [base, top]);
    const d1 = writeTagDir(root, "library/alpine", "3.19", m1, [cfg, base]);
    const d2 = writeTagDir(root, "library/alpine", "edge", m2, [cfg, top]);
    // hardlink the base layer into the second tag dir, copy it into a third repo
    fs.linkSync(path.join(d1, hex(base.bytes)), path.join(d2, hex(base.bytes)));
    writeTagDir(root, "team/sub/app", "v1", m1, [cfg, base]);

    const inv = await scan(root);
    assert.deepEqual(messages(inv), []);
    assert.deepEqual(
      inv.repositories.map((r) => [r.name, r.tags.map((t) => t.name)]),
      [
        ["library/alpine", ["3.19", "edge"]],
        ["team/sub/app", ["v1"]],
      ],
    );
    const alpine = inv.repositories[0];
    assert.equal(alpine.tags[0].digest, dig(m1));
    assert.equal(alpine.tags[0].source, "library/alpine/3.19/manifest.json");
    assert.deepEqual(alpine.manifests, [dig(m1), dig(m2)].sort());
    assert.deepEqual(alpine.blobs, [dig(cfg.bytes), dig(base.bytes), dig(top.bytes)].sort());
    // one file per digest, the first in walk order
    assert.equal(inv.blobs[dig(base.bytes)].path, `library/alpine/3.19/${hex(base.bytes)}`);
    assert.equal(inv.blobs[dig(top.bytes)].size, top.bytes.length);
    assert.equal(inv.manifests[dig(m1)].mediaType, "application/vnd.oci.image.manifest.v1+json");
    assert.deepEqual(summarize(inv), {
      repositories: 2,
      tags: 3,
      manifests: 2,
      blobs: 3,
      bytes: m1.length + m2.length + cfg.bytes.length + base.bytes.length + top.bytes.length,
    });
  });

  test("OCI manifest without mediaType is inferred; Docker v2s2 keeps its type", async () => {
    const root = tmpDir("scan");
    const cfg = configBlob();
    const l = blob("l");
    const noMt = imageManifest(cfg, [l], {}, null);
    const docker = imageManifest(
      blob(cfg.bytes.toString(), "application/vnd.docker.container.image.v1+json"),
      [blob("l", "application/vnd.docker.image.rootfs.diff.tar.gzip")],
      {},
      "application/vnd.docker.distribution.manifest.v2+json",
    );
    writeTagDir(root, "a", "nomt", noMt, [cfg, l]);
    writeTagDir(root, "a", "docker", docker, [cfg, l]);
    const inv = await scan(root);
    assert.deepEqual(messages(inv), []);
    assert.equal(inv.manifests[dig(noMt)].mediaType, "application/vnd.oci.image.manifest.v1+json");
    assert.equal(
      inv.manifests[dig(docker)].mediaType,
      "application/vnd.docker.distribution.manifest.v2+json",
    );
  });

  test("multi-arch index with <hex>.manifest.json children", async () => {
    const root = tmpDir("scan");
    const amdCfg = configBlob("amd64");
    const armCfg = configBlob("arm64");
    const l = blob("shared");
    const amd = imageManifest(amdCfg, [l]);
    const arm = imageManifest(armCfg, [l]);
    const idx = indexManifest([
      { bytes: amd, arch: "amd64" },
      { bytes: arm, arch: "arm64" },
    ]);
    writeTagDir(root, "multi", "1.0", idx, [amdCfg, armCfg, l], [amd, arm]);
    const inv = await scan(root);
    assert.deepEqual(messages(inv), []);
    const idxRec = inv.manifests[dig(idx)];
    assert.equal(idxRec.kind, "index");
    assert.deepEqual(idxRec.children, [dig(amd), dig(arm)]);
    assert.equal(inv.manifests[dig(arm)].path, `multi/1.0/${hex(arm)}.manifest.json`);
    assert.deepEqual(inv.repositories[0].manifests, [dig(idx), dig(amd), dig(arm)].sort());
    assert.equal(inv.repositories[0].blobs.length, 3);
  });

  test("artifact with subject is a referrer of its subject", async () => {
    const root = tmpDir("scan");
    const cfg = configBlob();
    const l = blob("l");
    const img = imageManifest(cfg, [l]);
    const empty = blob("{}", "application/vnd.oci.empty.v1+json");
    const sbom = blob('{"sbom":true}', "application/spdx+json");
    const art = imageManifest(empty, [sbom], {
      artifactType: "application/vnd.example.sbom.v1",
      subject: {
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        digest: dig(img),
        size: img.length,
      },
      annotations: { "org.example": "yes" },
    });
    writeTagDir(root, "app", "1.0", img, [cfg, l]);
    writeTagDir(root, "app", "sbom", art, [empty, sbom]);
    const inv = await scan(root);
    assert.deepEqual(messages(inv), []);
    const refs = referrersOf(inv, inv.repositories[0], dig(img));
    assert.deepEqual(
      refs.map((r) => [r.digest, r.artifactType, r.annotations]),
      [[dig(art), "application/vnd.example.sbom.v1", { "org.example": "yes" }]],
    );
  });
});

describe("scan of OCI image layouts", () => {
  test("tags from ref.name, nested index followed, untagged manifests served by digest", async () => {
    const root = tmpDir("scan");
    const cfg = configBlob();
    const l = blob("layer");
    const img = imageManifest(cfg, [l]);
    const img2 = imageManifest(configBlob("arm64"), [l]);
    const idx = indexManifest([{ bytes: img2, arch: "arm64" }]);
    const untagged = imageManifest(cfg, [blob("extra")]);
    writeLayout(
      root,
      "layouts/tools",
      [
        { manifest: img, ref: "v1" },
        { manifest: img, ref: "docker.io/library/tools:v1.1" },
        { manifest: idx, ref: "multi" },
        { manifest: untagged },
      ],
      [cfg, l, configBlob("arm64"), img2, blob("extra")],
    );
    const inv = await scan(root);
    assert.deepEqual(messages(inv), []);
    const repo = inv.repositories[0];
    assert.equal(repo.name, "layouts/tools");
    assert.deepEqual(
      repo.tags.map((t) => [t.name, t.digest]),
      [
        ["multi", dig(idx)],
        ["v1", dig(img)],
        ["v1.1", dig(img)],
      ],
    );
    assert.ok(repo.manifests.includes(dig(img2)), "child of nested index");
    assert.ok(repo.manifests.includes(dig(untagged)), "untagged manifest");
    assert.equal(inv.manifests[dig(img2)].path, `layouts/tools/blobs/sha256/${hex(img2)}`);
  });
});

describe("validation", () => {
  test("each broken thing is reported naming its file", async () => {
    const root = tmpDir("scan");
    const cfg = configBlob();
    const l = blob("l");
    const good = imageManifest(cfg, [l]);
    // missing blob (one no other directory holds either: any copy of a blob may serve it)
    writeTagDir(root, "bad/missing", "1", imageManifest(cfg, [blob("only here")]), [cfg]);
    // wrong size: the manifest claims more bytes than the file has
    const wrong = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { mediaType: cfg.mediaType, digest: dig(cfg.bytes), size: cfg.bytes.length },
        layers: [{ mediaType: l.mediaType, digest: dig(l.bytes), size: 999 }],
      }),
    );
    writeTagDir(root, "bad/size", "1", wrong, [cfg, l]);
    // unparsable JSON, unknown media type
    writeTagDir(root, "bad/json", "1", Buffer.from("{not json"), []);
    writeTagDir(root, "bad/type", "1", imageManifest(cfg, [l], {}, "application/x-nope"), [cfg, l]);
    // grammar
    writeTagDir(root, "Bad/Upper", "1", good, [cfg, l]);
    writeTagDir(root, "bad/tag", "-x", good, [cfg, l]);
    // child manifest whose content does not hash to its name
    const amd = imageManifest(cfg, [l]);
    const idx = indexManifest([{ bytes: amd, arch: "amd64" }]);
    const d = writeTagDir(root, "bad/child", "1", idx, [cfg, l], [amd]);
    fs.writeFileSync(path.join(d, `${hex(amd)}.manifest.json`), Buffer.concat([amd, Buffer.from(" ")]));
    // symlink leaving the root
    fs.symlinkSync("/etc/passwd", path.join(root, "bad", "escape"));
    // duplicate repository:tag from two sources (a layout listing the same tag twice)
    writeLayout(
      root,
      "bad/dup",
      [
        { manifest: good, ref: "1" },
        { manifest: imageManifest(cfg, []), ref: "1" },
      ],
      [cfg, l],
    );

    const inv = await scan(root);
    // All nine, each once, in the order of their files; the JSON parser's own words vary with Node.js.
    const want: (string | RegExp)[] = [
      'Bad/Upper/1: repository name "Bad/Upper" breaks the distribution name grammar',
      `bad/child/1/${hex(amd)}.manifest.json: content hashes to ${dig(Buffer.concat([amd, Buffer.from(" ")]))}, not to ${dig(amd)} as bad/child/1/manifest.json says`,
      "bad/dup/index.json: duplicate tag bad/dup:1, already defined by bad/dup/index.json",
      "bad/escape: is a symbolic link to /etc/passwd, outside the images root; it is not followed",
      /^bad\/json\/1\/manifest\.json: is not valid JSON: \S.*$/,
      `bad/missing/1/manifest.json: references blob ${dig("only here")}, which is not on disk`,
      // Any copy of a blob may serve it: the first one, in name order, is the one measured.
      `bad/size/1/manifest.json: says blob ${dig(l.bytes)} has size 999, but bad/child/1/${hex(l.bytes)} has ${l.bytes.length} bytes`,
      'bad/tag/-x: tag "-x" breaks the distribution tag grammar',
      'bad/type/1/manifest.json: has unknown media type "application/x-nope"',
    ];
    const got = messages(inv);
    assert.equal(got.length, want.length, got.join("\n"));
    want.forEach((w, i) =>
      typeof w === "string" ? assert.equal(got[i], w) : assert.match(got[i], w, `problem ${i + 1}`),
    );
    // nothing broken is served
    const names = inv.repositories.map((r) => r.name);
    for (const n of ["bad/json", "bad/type", "Bad/Upper"]) assert.ok(!names.includes(n), n);
    assert.ok(!Object.values(inv.blobs).some((b) => b.path.includes("escape")));
  });

  test("--verify hashes blobs and reports content that does not match its digest", async () => {
    const root = tmpDir("scan");
    const cfg = configBlob();
    const l = blob("layer!");
    const d = writeTagDir(root, "v", "1", imageManifest(cfg, [l]), [cfg, l]);
    fs.writeFileSync(path.join(d, hex(l.bytes)), "LAYER!"); // same size, other bytes
    assert.deepEqual(messages(await scan(root)), [], "without verify only sizes are checked");
    const seen: number[] = [];
    const inv = await scan(root, { verify: true, onProgress: (done) => seen.push(done) });
    assert.deepEqual(messages(inv), [
      `v/1/${hex(l.bytes)}: content hashes to ${dig("LAYER!")}, not to ${dig(l.bytes)}`,
    ]);
    assert.equal(seen.at(-1), cfg.bytes.length + l.bytes.length);
  });

  test("a missing root is an error, not an empty registry", async () => {
    await assert.rejects(scan("/nonexistent/images"), /images root \/nonexistent\/images does not exist/);
  });

  test("the same tree, added in another order with other file times, scans to the same Inventory", async () => {
    const [a, b] = await inTwoOrders("scan-order", writeMixedTree, async (root) => {
      const inv = await scan(root);
      assert.equal(inv.problems.length, 2, "the tree's two broken tags are reported");
      assert.deepEqual(
        inv.repositories.map((r) => r.name),
        ["broken/missing", "layouts/tools", "library/alpine", "multi", "team-c/x", "team/a", "team/b"],
      );
      return JSON.stringify(inv);
    });
    assert.equal(b, a);
  });
});
