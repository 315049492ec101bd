/** The provenance tag names and the copy plan (pure). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { planProvenance } from "../../src/provenance/plan";
import { kindCount, parseProvenanceTag, provenanceTag } from "../../src/provenance/tags";

const hex = (c: string) => c.repeat(64);
const IMAGE = `sha256:${hex("a")}`;
const CHILD = `sha256:${hex("b")}`;

test("tag names: cosign's tag scheme and the referrers tag schema, both ways", () => {
  const cases = [
    { kind: "signature", tag: `sha256-${hex("a")}.sig` },
    { kind: "attestation", tag: `sha256-${hex("a")}.att` },
    { kind: "sbom", tag: `sha256-${hex("a")}.sbom` },
    { kind: "referrers", tag: `sha256-${hex("a")}` },
  ] as const;
  for (const c of cases) {
    assert.equal(provenanceTag(c.kind, IMAGE), c.tag, c.kind);
    assert.deepEqual(parseProvenanceTag(c.tag), { kind: c.kind, subject: IMAGE }, c.kind);
  }
  for (const other of [
    "1.0",
    "latest",
    `sha256-${hex("a")}.sign`,
    `sha256-${hex("A")}.sig`,
    `sha256-abc.sig`,
    `sha512-${hex("a")}`,
  ])
    assert.equal(parseProvenanceTag(other), undefined, other);
  assert.throws(() => provenanceTag("signature", "sha256:abc"), /not a sha256 digest/);
  assert.deepEqual(
    [kindCount("signature", 1), kindCount("sbom", 2), kindCount("referrers", 0), kindCount("attestation", 3)],
    ["1 signature", "2 SBOMs", "0 referrers", "3 attestations"],
  );
});

test("plan: from a listing, only the tags it names, image first then its platform manifests", () => {
  const listing = new Set([
    "1.0",
    provenanceTag("sbom", CHILD),
    provenanceTag("signature", IMAGE),
    provenanceTag("referrers", IMAGE),
    provenanceTag("signature", `sha256:${hex("c")}`),
  ]);
  const items = planProvenance([IMAGE, CHILD], listing);
  assert.deepEqual(
    items.map((i) => [i.kind, i.subject, i.probe]),
    [
      ["signature", IMAGE, false],
      ["referrers", IMAGE, false],
      ["sbom", CHILD, false],
    ],
  );
});

test("plan: without a listing every tag is a probe; done tags are not planned again; the image's own tag is a conflict", () => {
  const probes = planProvenance([IMAGE], undefined);
  assert.deepEqual(
    probes.map((i) => [i.tag, i.probe]),
    [
      [provenanceTag("signature", IMAGE), true],
      [provenanceTag("attestation", IMAGE), true],
      [provenanceTag("sbom", IMAGE), true],
      [provenanceTag("referrers", IMAGE), true],
    ],
  );
  const again = planProvenance(
    [IMAGE, IMAGE, CHILD],
    undefined,
    undefined,
    new Set(probes.map((p) => p.tag)),
  );
  assert.deepEqual(
    again.map((i) => i.subject),
    [CHILD, CHILD, CHILD, CHILD],
    "the image's tags were done; the repeated subject adds nothing",
  );
  const own = `sha256-${hex("a")}`;
  const digestOnly = planProvenance([IMAGE], undefined, own);
  const conflict = digestOnly.find((i) => i.tag === own);
  assert.match(
    conflict?.conflict ?? "",
    /the image itself is stored under sha256-a+ \(a digest-only reference\)/,
  );
  assert.equal(digestOnly.filter((i) => i.conflict).length, 1);
});
