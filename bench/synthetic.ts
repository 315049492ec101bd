/**
 * Synthetic images trees for the scaling benchmarks: N tags in the skopeo
 * `dir:` layout, written directly (no skopeo, no tar, no gzip), deterministic
 * (same N → same bytes, same digests).
 *
 * Shape, per 10 tags of one repository (repositories are nested: team-K/app-NNNN):
 * - every image has a shared base layer (one of BASE_LAYERS per architecture,
 *   hardlinked from a pool outside ROOT, so 10,000 tags cost a few inodes each),
 *   a layer shared by all tags of its repository (hardlinked too), its own small
 *   app layer and its own config;
 * - every MULTI_ARCH_EVERY-th tag is a multi-arch index (OCI index or Docker
 *   manifest list, alternating) with an amd64 and an arm64 child written beside
 *   it as `<hex>.manifest.json`, as `skopeo copy --all` does;
 * - single images alternate between Docker v2s2 and OCI manifests.
 * Blob bytes are tiny (a few hundred bytes): scan never reads blobs, and nginx
 * only stats them; size matters only in the serving benchmarks, which use
 * their own fixtures.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export const TAGS_PER_REPO = 10;
export const BASE_LAYERS = 8;
export const MULTI_ARCH_EVERY = 5;

const MT = {
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayer: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar+gzip",
} as const;

interface Desc {
  mediaType: string;
  digest: string;
  size: number;
}

/** A tag of one repository, for lookup-cost probes. */
export interface Probe {
  repo: string;
  tag: string;
  manifestDigest: string;
  /** A layer of this repository's own (the app layer of `tag`'s image). */
  blobDigest: string;
  /** A base layer that many repositories hold (one shared entry in the config). */
  baseLayerDigest: string;
}

export interface SyntheticTree {
  root: string;
  tags: number;
  repositories: number;
  multiArch: number;
  /** Unique blob digests (configs + layers), manifests not included. */
  uniqueBlobs: number;
  manifests: number;
  /** A tag in the first / last repository (byte order), for lookup-cost probes. */
  first: Probe;
  last: Probe;
  /** Wall time to write the tree. */
  writeMs: number;
}

const sha = (b: Buffer) => "sha256:" + createHash("sha256").update(b).digest("hex");
const hex = (d: string) => d.slice(7);

/** `n` deterministic bytes derived from `seed`. */
function bytes(seed: string, n: number): Buffer {
  const out = Buffer.alloc(n);
  let off = 0;
  for (let i = 0; off < n; i++) {
    const h = createHash("sha256").update(`${seed}/${i}`).digest();
    off += h.copy(out, off);
  }
  return out;
}

export function repoName(r: number): string {
  return `team-${r % 10}/app-${String(r).padStart(5, "0")}`;
}

export function tagName(t: number): string {
  return `v1.${t}.0`;
}

/**
 * Writes a tree of `tags` tags under `dir/root` (blob pool in `dir/pool`, on
 * the same filesystem for hardlinks). `dir` must not exist or be empty.
 */
export function generateTree(dir: string, tags: number): SyntheticTree {
  const t0 = performance.now();
  const root = path.join(dir, "root");
  const pool = path.join(dir, "pool");
  fs.mkdirSync(root, { recursive: true });
  fs.mkdirSync(pool, { recursive: true });

  /** Writes a blob into the pool once; returns its descriptor (path in the pool). */
  const pooled = new Map<string, { desc: Desc; file: string }>();
  const poolBlob = (key: string, data: Buffer, mediaType: string) => {
    let p = pooled.get(key);
    if (!p) {
      const desc = { mediaType, digest: sha(data), size: data.length };
      const file = path.join(pool, hex(desc.digest));
      fs.writeFileSync(file, data);
      p = { desc, file };
      pooled.set(key, p);
    }
    return p;
  };

  const uniqueBlobs = new Set<string>();
  let manifests = 0;
  let multiArch = 0;
  const repos = Math.ceil(tags / TAGS_PER_REPO);

  for (let t = 0; t < tags; t++) {
    const r = Math.floor(t / TAGS_PER_REPO);
    const repo = repoName(r);
    const tag = tagName(t % TAGS_PER_REPO);
    const tagDir = path.join(root, repo, tag);
    fs.mkdirSync(tagDir, { recursive: true });
    fs.writeFileSync(path.join(tagDir, "version"), "Directory Transport Version: 1.1\n");
    const docker = t % 2 === 0;
    const layerMT = docker ? MT.dockerLayer : MT.ociLayer;
    const configMT = docker ? MT.dockerConfig : MT.ociConfig;

    /** Links (pool) or writes (own) one blob into the tag dir. */
    const link = (p: { desc: Desc; file: string }) => {
      const dest = path.join(tagDir, hex(p.desc.digest));
      if (!fs.existsSync(dest)) fs.linkSync(p.file, dest);
      uniqueBlobs.add(p.desc.digest);
      return p.desc;
    };
    const own = (data: Buffer, mediaType: string): Desc => {
      const desc = { mediaType, digest: sha(data), size: data.length };
      fs.writeFileSync(path.join(tagDir, hex(desc.digest)), data);
      uniqueBlobs.add(desc.digest);
      return desc;
    };
    /** One image manifest for `arch`: base + repo layer + own app layer + own config. */
    const image = (arch: string): Buffer => {
      const base = link(
        poolBlob(`base/${arch}/${t % BASE_LAYERS}`, bytes(`base/${arch}/${t % BASE_LAYERS}`, 1024), layerMT),
      );
      const shared = link(poolBlob(`repo/${r}/${docker}`, bytes(`repo/${r}`, 512), layerMT));
      const app = own(bytes(`app/${t}/${arch}`, 256), layerMT);
      const config = own(
        Buffer.from(
          JSON.stringify({
            architecture: arch,
            os: "linux",
            config: { Labels: { "org.example.synthetic": `${repo}:${tag}` } },
            rootfs: { type: "layers", diff_ids: [base, shared, app].map((l) => sha(Buffer.from(l.digest))) },
          }),
        ),
        configMT,
      );
      manifests++;
      return Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: docker ? MT.dockerManifest : MT.ociManifest,
          config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
          layers: [base, shared, app],
        }),
      );
    };

    let top: Buffer;
    if (t % MULTI_ARCH_EVERY === MULTI_ARCH_EVERY - 1) {
      multiArch++;
      const children = ["amd64", "arm64"].map((arch) => {
        const m = image(arch);
        const d = sha(m);
        fs.writeFileSync(path.join(tagDir, `${hex(d)}.manifest.json`), m);
        return {
          mediaType: docker ? MT.dockerManifest : MT.ociManifest,
          digest: d,
          size: m.length,
          platform: { architecture: arch, os: "linux" },
        };
      });
      manifests++;
      top = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: docker ? MT.dockerList : MT.ociIndex,
          manifests: children,
        }),
      );
    } else {
      top = image("amd64");
    }
    fs.writeFileSync(path.join(tagDir, "manifest.json"), top);
  }

  // Byte order of repository names is not creation order: team-0/app-00000
  // sorts first, and the team-9/… repository with the highest number last.
  let lastRepo = 0;
  for (let r = 0; r < repos; r++) if (repoName(r) > repoName(lastRepo)) lastRepo = r;
  return {
    root,
    tags,
    repositories: repos,
    multiArch,
    uniqueBlobs: uniqueBlobs.size,
    manifests,
    first: probe(root, repoName(0)),
    last: probe(root, repoName(lastRepo)),
    writeMs: performance.now() - t0,
  };
}

/** The first tag of `repo` (a single image), its manifest digest and two of its layers, read back from disk. */
function probe(root: string, repo: string): Probe {
  const tagDir = path.join(root, repo, tagName(0));
  const top = fs.readFileSync(path.join(tagDir, "manifest.json"));
  const layers = (JSON.parse(top.toString()) as { layers: Desc[] }).layers;
  return {
    repo,
    tag: tagName(0),
    manifestDigest: sha(top),
    blobDigest: layers[2].digest,
    baseLayerDigest: layers[0].digest,
  };
}
