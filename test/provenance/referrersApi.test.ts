/**
 * The pure parts of referrers discovery: reading an API page, the index
 * stored for what the API lists, and how the summary counts referrers that
 * were fetched against those already in the tree.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseReferrersPage, referrersIndexBytes } from "../../src/provenance/referrersApi";
import { addLines, carryLines, countsText, emptyCounts } from "../../src/provenance/report";

const D = (c: string) => `sha256:${c.repeat(64)}`;
const M = "application/vnd.oci.image.manifest.v1+json";

test("an API page: descriptors kept with artifactType and string annotations; bad entries are warnings", () => {
  const page = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        {
          mediaType: M,
          digest: D("b"),
          size: 5,
          artifactType: "application/spdx+json",
          annotations: { a: "1", n: 2 },
        },
        { mediaType: M, digest: "sha512:" + "c".repeat(128), size: 5 },
        { mediaType: M, digest: D("d"), size: -1 },
        "not a descriptor",
        { mediaType: M, digest: D("e"), size: 7 },
      ],
    }),
  );
  const r = parseReferrersPage(page, "page 1");
  assert.deepEqual(r.descriptors, [
    { mediaType: M, digest: D("b"), size: 5, artifactType: "application/spdx+json", annotations: { a: "1" } },
    { mediaType: M, digest: D("e"), size: 7 },
  ]);
  assert.deepEqual(r.warnings, [
    `page 1: sha512:${"c".repeat(128)} is not a sha256 digest; left out`,
    "page 1: manifests[2] is not a descriptor; left out",
    "page 1: manifests[3] is not a descriptor; left out",
  ]);
  assert.throws(() => parseReferrersPage(Buffer.from("<html>"), "page 1"), /page 1 is not JSON/);
  assert.throws(() => parseReferrersPage(Buffer.from("{}"), "page 1"), /page 1 is not an index/);
});

test("the stored index: one descriptor per digest, in digest order, whatever order the API used", () => {
  const a = { mediaType: M, digest: D("a"), size: 1 };
  const b = { mediaType: M, digest: D("b"), size: 2, artifactType: "x/y" };
  const one = referrersIndexBytes([b, a, b]);
  const two = referrersIndexBytes([a, b]);
  assert.ok(one.equals(two), "same list, same bytes (an unchanged list leaves the tag alone)");
  assert.deepEqual(JSON.parse(one.toString()), {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [a, b],
  });
});

test("the summary counts a referrers index as its referrers: fetched ones copied, the others up to date", () => {
  const lines = carryLines(D("1"), {
    carried: [
      { kind: "signature", tag: "sha256-x.sig", digest: D("2"), status: "copied", referrers: 0, fetched: 0 },
      {
        kind: "referrers",
        tag: "sha256-x",
        digest: D("3"),
        status: "copied",
        referrers: 3,
        fetched: 1,
        viaApi: true,
      },
      { kind: "referrers", tag: "sha256-y", digest: D("4"), status: "kept", referrers: 2, fetched: 0 },
      { kind: "sbom", tag: "sha256-x.sbom", digest: D("5"), status: "kept", referrers: 0, fetched: 0 },
    ],
    warnings: [],
  });
  assert.equal(lines[1], `provenance referrers sha256-x copied ${D("3")} 3 1 api`);
  const c = addLines(emptyCounts(), lines);
  assert.equal(countsText(c.copied), "1 signature, 0 attestations, 0 SBOMs, 1 referrer");
  assert.equal(countsText(c.kept), "0 signatures, 0 attestations, 1 SBOM, 4 referrers");
});
