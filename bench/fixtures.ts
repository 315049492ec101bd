/**
 * The serving benchmarks' images: the e2e fixture tree (test/fixtures/build.ts:
 * every input kind, an 8 MiB layer, multi-arch indexes) plus one image with a
 * 64 MiB layer, written here in the skopeo dir: layout.
 */
import { createCipheriv, createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { buildFixtureTree, type FixtureImage } from "../test/fixtures/build";

export const HUGE_REPO = "bench/huge";
export const HUGE_TAG = "1.0";
export const HUGE_LAYER_BYTES = 64 * 1024 * 1024;

export interface ServingFixtures {
  root: string;
  images: FixtureImage[];
  huge: { repo: string; tag: string; manifestDigest: string; layerDigest: string; size: number };
}

const sha = (b: Buffer) => "sha256:" + createHash("sha256").update(b).digest("hex");

/** Seeded, incompressible bytes (AES-CTR keystream over zeros). */
function seededBytes(seed: string, n: number): Buffer {
  const key = createHash("sha256").update(seed).digest().subarray(0, 16);
  const c = createCipheriv("aes-128-ctr", key, Buffer.alloc(16));
  return Buffer.concat([c.update(Buffer.alloc(n)), c.final()]);
}

/**
 * Wall time of building the e2e fixture tree (test/fixtures/build.ts, which
 * every e2e test file does once), `runs` times, each into a fresh dir under
 * `work` that is removed afterwards.
 */
export async function timeFixtureBuilds(work: string, runs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const root = path.join(work, `fixture-build-${i}`);
    const t0 = performance.now();
    await buildFixtureTree(root);
    times.push(performance.now() - t0);
    fs.rmSync(root, { recursive: true, force: true });
  }
  return times;
}

export async function buildServingFixtures(root: string): Promise<ServingFixtures> {
  const images = await buildFixtureTree(root);
  const dir = path.join(root, HUGE_REPO, HUGE_TAG);
  fs.mkdirSync(dir, { recursive: true });
  const layer = seededBytes("bench/huge", HUGE_LAYER_BYTES);
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [sha(layer)] },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: sha(config),
        size: config.length,
      },
      layers: [
        { mediaType: "application/vnd.oci.image.layer.v1.tar", digest: sha(layer), size: layer.length },
      ],
    }),
  );
  fs.writeFileSync(path.join(dir, sha(layer).slice(7)), layer);
  fs.writeFileSync(path.join(dir, sha(config).slice(7)), config);
  fs.writeFileSync(path.join(dir, "manifest.json"), manifest);
  fs.writeFileSync(path.join(dir, "version"), "Directory Transport Version: 1.1\n");
  return {
    root,
    images,
    huge: {
      repo: HUGE_REPO,
      tag: HUGE_TAG,
      manifestDigest: sha(manifest),
      layerDigest: sha(layer),
      size: layer.length,
    },
  };
}
