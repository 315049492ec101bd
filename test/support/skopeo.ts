/**
 * skopeo as the tests use it against a registry: pushing a fixture with its
 * manifests' bytes and digests kept (to fill a reference registry or an
 * upstream), and pulling an image into a `dir:` tree that must then hold the
 * fixture's bytes exactly.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { sha256 } from "../../src/inventory";
import { blobFile, type FixtureImage } from "../fixtures/build";
import { hexOf } from "../../src/demo/oci";
import { runClient } from "./tools";

/** `skopeo copy --all --preserve-digests` of a fixture, from the tree itself, to `registry` (host:port) as `ref`. */
export function pushFixture(img: FixtureImage, registry: string, ref = img.reference): void {
  const src = img.source === "dir" ? `dir:${img.path}` : `oci:${img.path}:${img.tag}`;
  runClient("skopeo", [
    "--insecure-policy",
    "copy",
    "--all",
    "--preserve-digests",
    "--quiet",
    "--dest-tls-verify=false",
    src,
    `docker://${registry}/${ref}`,
  ]);
}

export interface PullOptions {
  /** Every platform of an index (`--all`, the default) or only the one skopeo picks. */
  all?: boolean;
  /** Verify TLS with the CA certificates in this dir; without it the registry is plain HTTP. */
  certDir?: string;
  /** `--override-arch`: the platform skopeo picks from an index. */
  arch?: string;
}

/** `skopeo copy docker://<registry>/<ref> dir:<dest>` (dest is created). */
export function pullToDir(registry: string, ref: string, dest: string, o: PullOptions = {}): void {
  fs.mkdirSync(dest, { recursive: true });
  runClient("skopeo", [
    "--insecure-policy",
    ...(o.arch ? ["--override-arch", o.arch] : []),
    "copy",
    ...(o.all === false ? [] : ["--all"]),
    "--preserve-digests",
    "--quiet",
    ...(o.certDir ? ["--src-cert-dir", o.certDir] : ["--src-tls-verify=false"]),
    `docker://${registry}/${ref}`,
    `dir:${dest}`,
  ]);
}

/**
 * `dest`, a `dir:` tree skopeo pulled `img` into (with --all), holds exactly
 * the fixture: the manifest and each child manifest byte for byte, every blob
 * byte for byte with its size and digest, and nothing else.
 */
export function assertSameImage(dest: string, img: FixtureImage): void {
  const what = img.reference;
  const manifest = fs.readFileSync(path.join(dest, "manifest.json"));
  assert.equal(sha256(manifest), img.digest, `${what}: manifest digest`);
  assert.ok(
    manifest.equals(fs.readFileSync(img.manifestPath)),
    `${what}: manifest.json differs from the tree's`,
  );
  const expected = new Set(["manifest.json", "version"]);
  for (const c of img.children) {
    const name = `${hexOf(c.digest)}.manifest.json`;
    const got = fs.readFileSync(path.join(dest, name));
    assert.ok(
      got.equals(fs.readFileSync(c.manifestPath)),
      `${what}: child ${c.platform} ${c.digest} differs`,
    );
    expected.add(name);
  }
  for (const b of img.blobs) {
    const got = fs.readFileSync(path.join(dest, hexOf(b.digest)));
    assert.equal(got.length, b.size, `${what}: blob ${b.digest} size`);
    assert.equal(sha256(got), b.digest, `${what}: blob ${b.digest} digest`);
    assert.ok(got.equals(fs.readFileSync(blobFile(img, b.digest))), `${what}: blob ${b.digest} differs`);
    expected.add(hexOf(b.digest));
  }
  assert.deepEqual(fs.readdirSync(dest).sort(), [...expected].sort(), `${what}: the files skopeo wrote`);
}
