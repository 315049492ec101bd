/**
 * The far-side check over a scanned tree (verifyTree), and --prune keeping
 * the provenance of the images it keeps, on small hand-made trees.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, test } from "node:test";
import { scan } from "../../src/inventory";
import { pruneTree } from "../../src/mirror/prune";
import { parsePublicKey } from "../../src/provenance/keys";
import { provenanceTag, subjectOfTag } from "../../src/provenance/tags";
import { repositoryIdentity, verifyTree } from "../../src/provenance/tree";
import { nodeSign, payload, referrersIndex, sha256, signatureImage } from "../support/cosign";
import { tmpDir } from "../support/tools";

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const ours = generateKeyPairSync("ec", { namedCurve: "P-256" });
const theirs = generateKeyPairSync("ec", { namedCurve: "P-256" });
const KEYS = [parsePublicKey("ours.pub", String(ours.publicKey.export({ type: "spki", format: "pem" })))];

/** Writes a dir: tag (manifest.json, version, blobs by hex). */
function writeTag(root: string, rel: string, manifest: Buffer, blobs: Map<string, Buffer>) {
  const dir = path.join(root, rel);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "manifest.json"), manifest);
  fs.writeFileSync(path.join(dir, "version"), "Directory Transport Version: 1.1\n");
  for (const [d, b] of blobs) fs.writeFileSync(path.join(dir, d.slice(7)), b);
}

/** A tiny image manifest (config only) of its own content. */
function image(name: string): { manifest: Buffer; digest: string; blobs: Map<string, Buffer> } {
  const config = Buffer.from(
    JSON.stringify({ architecture: "amd64", os: "linux", name, rootfs: { type: "layers", diff_ids: [] } }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: sha256(config),
        size: config.length,
      },
      layers: [],
    }),
  );
  return { manifest, digest: sha256(manifest), blobs: new Map([[sha256(config), config]]) };
}

function signTag(root: string, repoDir: string, digest: string, reference: string, by = ours.privateKey) {
  const p = payload(digest, reference);
  const sig = signatureImage([{ payload: p, signature: nodeSign(by, p) }]);
  writeTag(root, `${repoDir}/${provenanceTag("signature", digest)}`, sig.manifest, sig.blobs);
  return sig;
}

test("identity of a repository: its host directory and path, or the path alone", () => {
  assert.deepEqual(repositoryIdentity("docker.io/library/alpine"), {
    host: "docker.io",
    path: "library/alpine",
  });
  assert.deepEqual(repositoryIdentity("localhost_5000/team/app"), {
    host: "localhost:5000",
    path: "team/app",
  });
  assert.deepEqual(repositoryIdentity("team/app"), { path: "team/app" });
});

test("check --verify-key: the signed images pass; each unsigned, foreign-signed or altered one is a problem naming it", async () => {
  const root = tmpDir("provenance-tree");
  dirs.push(root);
  const signed = image("signed");
  writeTag(root, "up.invalid/team/signed/1.0", signed.manifest, signed.blobs);
  signTag(root, "up.invalid/team/signed", signed.digest, "up.invalid/team/signed:1.0");
  // Pulled by digest only: its tag directory is named by its digest.
  const pinned = image("pinned");
  writeTag(
    root,
    `up.invalid/team/pinned/${provenanceTag("referrers", pinned.digest)}`,
    pinned.manifest,
    pinned.blobs,
  );
  signTag(root, "up.invalid/team/pinned", pinned.digest, "up.invalid/team/pinned");
  const unsigned = image("unsigned");
  writeTag(root, "up.invalid/team/unsigned/1.0", unsigned.manifest, unsigned.blobs);
  const foreign = image("foreign");
  writeTag(root, "up.invalid/team/foreign/1.0", foreign.manifest, foreign.blobs);
  signTag(root, "up.invalid/team/foreign", foreign.digest, "up.invalid/team/foreign", theirs.privateKey);
  const moved = image("moved");
  writeTag(root, "up.invalid/team/moved/1.0", moved.manifest, moved.blobs);
  signTag(root, "up.invalid/team/moved", moved.digest, "up.invalid/team/elsewhere");

  const inv = await scan(root);
  assert.deepEqual(inv.problems, []);
  const r = verifyTree(inv, KEYS);
  assert.deepEqual(
    r.verified.map((v) => `${v.image} ${v.key}`),
    [
      `up.invalid/team/pinned:${provenanceTag("referrers", pinned.digest)} ours.pub`,
      "up.invalid/team/signed:1.0 ours.pub",
    ],
    "the .sig tags themselves are not images",
  );
  assert.deepEqual(
    r.problems.map((p) => [
      p.file,
      p.message.replace(/sha256:[a-f0-9]{64}/g, "D").replace(/sha256-[a-f0-9]{64}/g, "T"),
    ]),
    [
      [
        "up.invalid/team/foreign/1.0/manifest.json",
        "up.invalid/team/foreign:1.0 (D) did not verify: the signature was made by another key than ours.pub",
      ],
      [
        "up.invalid/team/moved/1.0/manifest.json",
        "up.invalid/team/moved:1.0 (D) did not verify: the signature is for the repository up.invalid/team/elsewhere, not up.invalid/team/moved (signed by ours.pub)",
      ],
      [
        "up.invalid/team/unsigned/1.0/manifest.json",
        "up.invalid/team/unsigned:1.0 (D) did not verify: no signature (no tag T.sig)",
      ],
    ],
  );

  // A signature altered on the way.
  const sigDir = path.join(root, "up.invalid/team/signed", provenanceTag("signature", signed.digest));
  const doc = JSON.parse(fs.readFileSync(path.join(sigDir, "manifest.json"), "utf8"));
  const ann = doc.layers[0].annotations;
  const bytes = Buffer.from(ann["dev.cosignproject.cosign/signature"], "base64");
  bytes[bytes.length - 1] ^= 1;
  ann["dev.cosignproject.cosign/signature"] = bytes.toString("base64");
  fs.writeFileSync(path.join(sigDir, "manifest.json"), JSON.stringify(doc));
  const after = verifyTree(await scan(root), KEYS);
  assert.ok(
    after.problems.some((p) =>
      /^up\.invalid\/team\/signed:1\.0 \(sha256:\w+\) did not verify: the signature was made by another key/.test(
        p.message,
      ),
    ),
    after.problems.map((p) => p.message).join("\n"),
  );
});

test("--prune keeps the provenance of the images it keeps, and drops that of removed ones and of old digests", () => {
  const root = tmpDir("provenance-prune");
  dirs.push(root);
  const kept = image("kept");
  const old = image("old");
  const gone = image("gone");
  writeTag(root, "up.invalid/a/1.0", kept.manifest, kept.blobs);
  signTag(root, "up.invalid/a", kept.digest, "up.invalid/a");
  signTag(root, "up.invalid/a", old.digest, "up.invalid/a"); // the tag's earlier image
  writeTag(root, "up.invalid/b/1.0", gone.manifest, gone.blobs);
  signTag(root, "up.invalid/b", gone.digest, "up.invalid/b");
  // A referrer of the kept image, and a signature of that referrer.
  const referrer = image("sbom");
  const index = referrersIndex([
    { digest: referrer.digest, size: referrer.manifest.length, artifactType: "application/spdx+json" },
  ]);
  const refDir = `up.invalid/a/${provenanceTag("referrers", kept.digest)}`;
  writeTag(root, refDir, index, referrer.blobs);
  fs.writeFileSync(path.join(root, refDir, `${referrer.digest.slice(7)}.manifest.json`), referrer.manifest);
  signTag(root, "up.invalid/a", referrer.digest, "up.invalid/a");

  const removed = pruneTree(root, new Set(["up.invalid/a/1.0"]), subjectOfTag);
  assert.deepEqual(
    removed.sort(),
    [
      `up.invalid/a/${provenanceTag("signature", old.digest)}`,
      "up.invalid/b/1.0",
      `up.invalid/b/${provenanceTag("signature", gone.digest)}`,
    ].sort(),
  );
  for (const rel of [
    `up.invalid/a/${provenanceTag("signature", kept.digest)}`,
    refDir,
    `up.invalid/a/${provenanceTag("signature", referrer.digest)}`,
  ])
    assert.ok(fs.existsSync(path.join(root, rel, "manifest.json")), `${rel} kept`);
});
