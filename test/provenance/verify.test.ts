/**
 * The keyed signature check: what passes, and each reason an image is
 * refused (table tests over cosign-shaped `.sig` manifests signed with
 * node:crypto; the e2e signs with openssl).
 */
import assert from "node:assert/strict";
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { test } from "node:test";
import { parsePublicKey, type VerifyKey } from "../../src/provenance/keys";
import { checkPayload, type Identity } from "../../src/provenance/payload";
import { verifySignatures, type Reason } from "../../src/provenance/verify";
import { nodeSign, payload, sha256, signatureImage, SIGNATURE_ANNOTATION } from "../support/cosign";

const IMAGE = sha256(Buffer.from("the image manifest"));
const OTHER = sha256(Buffer.from("another image manifest"));
const ID: Identity = { host: "upstream-a.invalid", path: "team/app" };

const ours = generateKeyPairSync("ec", { namedCurve: "P-256" });
const theirs = generateKeyPairSync("ed25519");
const asKey = (name: string, k: KeyObject): VerifyKey =>
  parsePublicKey(name, String(k.export({ type: "spki", format: "pem" })));
const KEYS = [asKey("ours.pub", ours.publicKey)];

test("payload checks: the digest, the repository (normalised by Docker's rules) and cosign's type", () => {
  const cases: {
    name: string;
    bytes: Buffer;
    identity?: Identity;
    ok?: true;
    reason?: string;
    message?: RegExp;
  }[] = [
    { name: "the image, by repository", bytes: payload(IMAGE, "upstream-a.invalid/team/app"), ok: true },
    {
      name: "a tag in the reference is not compared",
      bytes: payload(IMAGE, "upstream-a.invalid/team/app:1.0"),
      ok: true,
    },
    {
      name: "index.docker.io is docker.io, library/ added",
      bytes: payload(IMAGE, "index.docker.io/library/alpine"),
      identity: { host: "docker.io", path: "library/alpine" },
      ok: true,
    },
    {
      name: "a short Hub name",
      bytes: payload(IMAGE, "alpine:3.19"),
      identity: { host: "docker.io", path: "library/alpine" },
      ok: true,
    },
    {
      name: "a tree without host directories compares the path",
      bytes: payload(IMAGE, "registry.example/team/app"),
      identity: { path: "team/app" },
      ok: true,
    },
    {
      name: "another digest",
      bytes: payload(OTHER, "upstream-a.invalid/team/app"),
      reason: "wrong-digest",
      message: new RegExp(`the signature is for ${OTHER}, not for this image's ${IMAGE}`),
    },
    {
      name: "another repository",
      bytes: payload(IMAGE, "upstream-a.invalid/team/other"),
      reason: "wrong-identity",
      message:
        /the signature is for the repository upstream-a\.invalid\/team\/other, not upstream-a\.invalid\/team\/app/,
    },
    {
      name: "another host",
      bytes: payload(IMAGE, "upstream-b.invalid/team/app"),
      reason: "wrong-identity",
      message: /upstream-b\.invalid\/team\/app, not upstream-a\.invalid/,
    },
    {
      name: "not a reference",
      bytes: payload(IMAGE, "Not A Reference"),
      reason: "wrong-identity",
      message: /names "Not A Reference", which is not an image reference/,
    },
    {
      name: "another type",
      bytes: payload(IMAGE, "upstream-a.invalid/team/app", "atomic container signature"),
      reason: "wrong-type",
      message: /critical\.type is "atomic container signature", not "cosign container image signature"/,
    },
    { name: "not JSON", bytes: Buffer.from("{"), reason: "bad-payload", message: /is not JSON/ },
    {
      name: "no critical",
      bytes: Buffer.from('{"optional":{}}'),
      reason: "bad-payload",
      message: /no critical section/,
    },
    {
      name: "no digest",
      bytes: Buffer.from('{"critical":{"type":"cosign container image signature","image":{}}}'),
      reason: "bad-payload",
      message: /no critical\.image\.docker-manifest-digest/,
    },
    {
      name: "no identity",
      bytes: Buffer.from(
        JSON.stringify({
          critical: { type: "cosign container image signature", image: { "docker-manifest-digest": IMAGE } },
        }),
      ),
      reason: "bad-payload",
      message: /no critical\.identity\.docker-reference/,
    },
  ];
  for (const c of cases) {
    const v = checkPayload(c.bytes, IMAGE, c.identity ?? ID);
    if (c.ok) assert.deepEqual(v, { ok: true }, c.name);
    else {
      assert.equal(v.ok, false, c.name);
      if (!v.ok) {
        assert.equal(v.reason, c.reason, c.name);
        assert.match(v.message, c.message!, c.name);
      }
    }
  }
});

/** A `.sig` source from layers (each a payload and who signs it), optionally damaged. */
function source(
  layers: { bytes: Buffer; by?: KeyObject; signature?: string }[],
  damage?: (manifest: Record<string, unknown>) => void,
  missingBlobs = false,
) {
  const img = signatureImage(
    layers.map((l) => ({ payload: l.bytes, signature: l.signature ?? nodeSign(l.by!, l.bytes) })),
  );
  let manifest = img.manifest;
  if (damage) {
    const doc = JSON.parse(manifest.toString()) as Record<string, unknown>;
    damage(doc);
    manifest = Buffer.from(JSON.stringify(doc));
  }
  return {
    tag: `sha256-${IMAGE.slice(7)}.sig`,
    manifest,
    blob: (d: string) => (missingBlobs ? undefined : img.blobs.get(d)),
  };
}

const good = payload(IMAGE, "upstream-a.invalid/team/app");

test("verification: each way an image fails names its reason; one good signature among others passes", () => {
  const cases: {
    name: string;
    sig: ReturnType<typeof source> | { tag: string; manifest?: Buffer; blob: () => undefined };
    keys?: VerifyKey[];
    ok?: string;
    reason?: Reason;
    message?: RegExp;
  }[] = [
    { name: "signed by our key", sig: source([{ bytes: good, by: ours.privateKey }]), ok: "ours.pub" },
    {
      name: "one of several keys",
      sig: source([{ bytes: good, by: theirs.privateKey }]),
      keys: [...KEYS, asKey("theirs.pub", theirs.publicKey)],
      ok: "theirs.pub",
    },
    {
      name: "a good signature after a foreign one",
      sig: source([
        { bytes: good, by: theirs.privateKey },
        { bytes: good, by: ours.privateKey },
      ]),
      ok: "ours.pub",
    },
    {
      name: "no .sig at all",
      sig: { tag: `sha256-${IMAGE.slice(7)}.sig`, blob: () => undefined },
      reason: "unsigned",
      message: new RegExp(`^no signature \\(no tag sha256-${IMAGE.slice(7)}\\.sig\\)$`),
    },
    {
      name: "signed by another key",
      sig: source([{ bytes: good, by: theirs.privateKey }]),
      reason: "wrong-key",
      message: /^the signature was made by another key than ours\.pub$/,
    },
    {
      name: "signature altered",
      sig: source([{ bytes: good, signature: nodeSign(ours.privateKey, payload(OTHER, "x/y")) }]),
      reason: "wrong-key",
      message: /made by another key/,
    },
    {
      name: "payload swapped after signing",
      sig: source([
        {
          bytes: payload(IMAGE, "upstream-a.invalid/team/app:2"),
          signature: nodeSign(ours.privateKey, good),
        },
      ]),
      reason: "wrong-key",
      message: /made by another key/,
    },
    {
      name: "our key, another digest",
      sig: source([{ bytes: payload(OTHER, "upstream-a.invalid/team/app"), by: ours.privateKey }]),
      reason: "wrong-digest",
      message: /the signature is for sha256:\w+, not for this image's .* \(signed by ours\.pub\)$/,
    },
    {
      name: "our key, another repository (beats a foreign signature beside it)",
      sig: source([
        { bytes: good, by: theirs.privateKey },
        { bytes: payload(IMAGE, "upstream-a.invalid/other"), by: ours.privateKey },
      ]),
      reason: "wrong-identity",
      message:
        /repository upstream-a\.invalid\/other, not upstream-a\.invalid\/team\/app \(signed by ours\.pub\)/,
    },
    {
      name: "no signature annotation",
      sig: source([{ bytes: good, by: ours.privateKey }], (m) => {
        (m.layers as { annotations: object }[])[0].annotations = {};
      }),
      reason: "malformed",
      message: new RegExp(`layer 0 has no base64 ${SIGNATURE_ANNOTATION.replace(/[./]/g, "\\$&")}`),
    },
    {
      name: "payload blob missing",
      sig: source([{ bytes: good, by: ours.privateKey }], undefined, true),
      reason: "malformed",
      message: /the signed payload blob is missing/,
    },
    {
      name: "payload does not hash to its descriptor",
      sig: { ...source([{ bytes: good, by: ours.privateKey }]), blob: () => good.subarray(1) },
      reason: "malformed",
      message: /layer 0: the payload does not hash to its digest/,
    },
    {
      name: "several signatures, several keys, none ours",
      sig: source([
        { bytes: good, by: theirs.privateKey },
        { bytes: good, by: theirs.privateKey },
      ]),
      keys: [...KEYS, asKey("also.pub", generateKeyPairSync("ed25519").publicKey)],
      reason: "wrong-key",
      message: /^none of the 2 signatures was made by any of the 2 given keys \(ours\.pub, also\.pub\)$/,
    },
    {
      name: "not a manifest",
      sig: { tag: "t.sig", manifest: Buffer.from("[]"), blob: () => undefined },
      reason: "malformed",
      message: /t\.sig is not an image manifest with layers/,
    },
    {
      name: "no simple-signing layer",
      sig: source([{ bytes: good, by: ours.privateKey }], (m) => {
        (m.layers as { mediaType: string }[])[0].mediaType = "application/vnd.dsse.envelope.v1+json";
      }),
      reason: "unsigned",
      message: /holds no simple-signing signature/,
    },
  ];
  for (const c of cases) {
    const v = verifySignatures(c.sig, IMAGE, ID, c.keys ?? KEYS);
    if (c.ok) {
      assert.ok(v.ok, `${c.name}: ${!v.ok && v.message}`);
      if (v.ok) assert.equal(v.key.name, c.ok, c.name);
    } else {
      assert.ok(!v.ok, `${c.name} must fail`);
      if (!v.ok) {
        assert.equal(v.reason, c.reason, `${c.name}: ${v.message}`);
        assert.match(v.message, c.message!, c.name);
      }
    }
  }
});
