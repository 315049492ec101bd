/**
 * A small images tree written to disk together with its hand-built Inventory
 * (render's tests do not depend on scan). Deterministic: seeded bytes, fixed
 * JSON. It has what render must get right:
 *  - library/alpine: Docker v2s2 and OCI manifests, tags "Latest" and
 *    "latest" that differ only in case and point to different manifests;
 *  - multi: an OCI layout (blobs/sha256/<hex> files), a multi-arch index with
 *    two children, a 3 MiB layer (Range), two referrers of the index, one with
 *    annotations full of characters that need escaping;
 *  - many/tags: 1000 tags, one of them upper case, and four/tags: 4 tags (lists);
 *  - a.b_c-d/e__f: a name using every separator; a blob file not named by its hex.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type {
  BlobRecord,
  Digest,
  Inventory,
  ManifestRecord,
  RepositoryRecord,
} from "../../src/inventory/model";
import { MediaType, byteOrder } from "../../src/inventory/model";
import { sha256 } from "../../src/inventory";
import { seededBytes } from "../fixtures/prng";

const hex = (d: Digest) => d.slice("sha256:".length);

/** Annotations that break naive quoting in nginx, JSON or a shell. */
export const NASTY_ANNOTATIONS: Record<string, string> = {
  "org.example.dollar": "$host ${uri} $1 $",
  "org.example.quotes": `it's "quoted" \\ back\\slash; {braces} # not a comment`,
  "org.example.newline": "line1\nline2\r\tend",
  "org.example.unicode": "héllo wörld ✓ 雪",
};

export interface Fixture {
  root: string;
  inv: Inventory;
  /** Handy digests and bytes for assertions. */
  alpine319: { digest: Digest; bytes: Buffer; config: Digest; layer: Digest };
  alpineUpper: { digest: Digest; bytes: Buffer };
  index: { digest: Digest; bytes: Buffer };
  children: { digest: Digest; bytes: Buffer; platform: string }[];
  bigLayer: { digest: Digest; bytes: Buffer };
  referrers: ManifestRecord[];
  manyTags: string[];
  fourTags: string[];
  oddBlob: { digest: Digest; bytes: Buffer; path: string };
}

export function buildFixture(root: string): Fixture {
  fs.mkdirSync(root, { recursive: true });
  const manifests: Record<Digest, ManifestRecord> = {};
  const blobs: Record<Digest, BlobRecord> = {};
  const put = (rel: string, bytes: Buffer) => {
    const p = path.join(root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, bytes);
    return rel;
  };
  const blob = (dir: string, bytes: Buffer, name?: string): Digest => {
    const d = sha256(bytes);
    blobs[d] ??= { digest: d, size: bytes.length, path: put(`${dir}/${name ?? hex(d)}`, bytes) };
    return d;
  };
  const manifest = (
    rel: string,
    doc: Record<string, unknown>,
    extra: Partial<ManifestRecord> & Pick<ManifestRecord, "mediaType" | "kind">,
  ) => {
    const bytes = Buffer.from(JSON.stringify(doc, null, 2));
    const d = sha256(bytes);
    const file = rel.endsWith("/") ? `${rel}${hex(d)}` : rel;
    put(file, bytes);
    manifests[d] ??= { digest: d, size: bytes.length, path: file, children: [], blobs: [], ...extra };
    return { digest: d, bytes };
  };
  const image = (dir: string, rel: string, seed: string, mediaType: string, layerSize = 1000) => {
    const config = blob(dir, Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", seed })));
    const layer = blob(dir, seededBytes(seed, layerSize));
    const oci = mediaType === MediaType.ociManifest;
    const m = manifest(
      rel,
      {
        schemaVersion: 2,
        mediaType,
        config: {
          mediaType: oci
            ? "application/vnd.oci.image.config.v1+json"
            : "application/vnd.docker.container.image.v1+json",
          digest: config,
          size: blobs[config].size,
        },
        layers: [{ mediaType: "application/octet-stream", digest: layer, size: layerSize }],
      },
      { mediaType, kind: "image", blobs: [config, layer] },
    );
    return { ...m, config, layer };
  };
  const repository = (
    name: string,
    tags: [string, Digest][],
    ms: Digest[],
    bs: Digest[],
  ): RepositoryRecord => ({
    name,
    tags: tags
      .map(([t, d]) => ({ name: t, digest: d, source: "" }))
      .sort((a, b) => byteOrder(a.name, b.name)),
    manifests: [...new Set(ms)].sort(byteOrder),
    blobs: [...new Set(bs)].sort(byteOrder),
  });

  // library/alpine: skopeo dir: layout, case-sensitive tags.
  const a319 = image(
    "library/alpine/3.19",
    "library/alpine/3.19/manifest.json",
    "alpine-3.19",
    MediaType.dockerManifest,
  );
  const aUpper = image(
    "library/alpine/Latest",
    "library/alpine/Latest/manifest.json",
    "alpine-Latest",
    MediaType.ociManifest,
  );
  put("library/alpine/latest/manifest.json", a319.bytes);
  const alpine = repository(
    "library/alpine",
    [
      ["3.19", a319.digest],
      ["Latest", aUpper.digest],
      ["latest", a319.digest],
    ],
    [a319.digest, aUpper.digest],
    [a319.config, a319.layer, aUpper.config, aUpper.layer],
  );

  // multi: an OCI layout with an index, two children, a big layer, and referrers.
  const L = "layouts/multi/blobs/sha256";
  const big = seededBytes("big-layer", 3 * 1024 * 1024 + 17);
  const amdConfig = blob(L, Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux" })));
  const bigDigest = blob(L, big);
  const amd = manifest(
    `${L}/`,
    {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: amdConfig,
        size: blobs[amdConfig].size,
      },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: bigDigest, size: big.length }],
    },
    { mediaType: MediaType.ociManifest, kind: "image", blobs: [amdConfig, bigDigest] },
  );
  const arm = image(L, `${L}/`, "multi-arm64", MediaType.ociManifest, 2048);
  const idx = manifest(
    `${L}/`,
    {
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [
        {
          mediaType: MediaType.ociManifest,
          digest: amd.digest,
          size: amd.bytes.length,
          platform: { os: "linux", architecture: "amd64" },
        },
        {
          mediaType: MediaType.ociManifest,
          digest: arm.digest,
          size: arm.bytes.length,
          platform: { os: "linux", architecture: "arm64" },
        },
      ],
    },
    { mediaType: MediaType.ociIndex, kind: "index", children: [amd.digest, arm.digest] },
  );
  const empty = blob(L, Buffer.from("{}"));
  const referrer = (seed: string, annotations?: Record<string, string>) =>
    manifest(
      `${L}/`,
      {
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        artifactType: "application/vnd.example.signature.v1",
        config: { mediaType: "application/vnd.oci.empty.v1+json", digest: empty, size: 2 },
        layers: [
          { mediaType: "application/vnd.example.sig", digest: blob(L, Buffer.from(seed)), size: seed.length },
        ],
        subject: { mediaType: MediaType.ociIndex, digest: idx.digest, size: idx.bytes.length },
        ...(annotations ? { annotations } : {}),
      },
      {
        mediaType: MediaType.ociManifest,
        kind: "image",
        blobs: [empty, sha256(seed)],
        subject: idx.digest,
        artifactType: "application/vnd.example.signature.v1",
        annotations,
      },
    );
  const r1 = referrer("signature one", NASTY_ANNOTATIONS);
  const r2 = referrer("signature two");
  const multi = repository(
    "multi",
    [
      ["v1", idx.digest],
      [`sha256-${hex(idx.digest)}.sig`, r1.digest],
    ],
    [idx.digest, amd.digest, arm.digest, r1.digest, r2.digest],
    [
      ...manifests[amd.digest].blobs,
      ...manifests[arm.digest].blobs,
      ...manifests[r1.digest].blobs,
      ...manifests[r2.digest].blobs,
    ],
  );

  // many/tags and four/tags: the list endpoints.
  const manyTags = [
    ...Array.from({ length: 999 }, (_, i) => `t${String(i).padStart(4, "0")}`),
    "T-upper",
  ].sort(byteOrder);
  const many = repository(
    "many/tags",
    manyTags.map((t) => [t, a319.digest] as [string, Digest]),
    [a319.digest],
    [a319.config, a319.layer],
  );
  const fourTags = ["1.0", "2.0", "Latest", "latest"];
  const four = repository(
    "four/tags",
    fourTags.map((t) => [t, a319.digest] as [string, Digest]),
    [a319.digest],
    [a319.config, a319.layer],
  );

  // Every separator in a name; a blob file not named by its hex.
  const oddBytes = Buffer.from("odd blob");
  const oddDigest = blob("odd", oddBytes, "not-a-hex-name.bin");
  const odd = repository(
    "a.b_c-d/e__f",
    [["1.0", a319.digest]],
    [a319.digest],
    [a319.config, a319.layer, oddDigest],
  );

  const inv: Inventory = {
    root,
    repositories: [alpine, multi, many, four, odd].sort((a, b) => byteOrder(a.name, b.name)),
    manifests,
    blobs,
    problems: [],
  };
  // Images must be readable by nginx's workers (nobody when started as root).
  chmodReadable(root);
  return {
    root,
    inv,
    alpine319: { digest: a319.digest, bytes: a319.bytes, config: a319.config, layer: a319.layer },
    alpineUpper: { digest: aUpper.digest, bytes: aUpper.bytes },
    index: idx,
    children: [
      { ...amd, platform: "linux/amd64" },
      { ...arm, platform: "linux/arm64" },
    ],
    bigLayer: { digest: bigDigest, bytes: big },
    referrers: [manifests[r1.digest], manifests[r2.digest]].sort((a, b) => byteOrder(a.digest, b.digest)),
    manyTags,
    fourTags,
    oddBlob: { digest: oddDigest, bytes: oddBytes, path: blobs[oddDigest].path },
  };
}

/** a+rX on a tree, and on every parent up to / so that nobody can reach it. */
export function chmodReadable(dir: string): void {
  const walk = (p: string) => {
    const st = fs.statSync(p);
    fs.chmodSync(p, st.mode | (st.isDirectory() ? 0o555 : 0o444));
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e));
  };
  walk(dir);
  for (let p = path.dirname(dir); p !== path.dirname(p); p = path.dirname(p)) {
    const st = fs.statSync(p);
    if ((st.mode & 0o001) === 0) fs.chmodSync(p, st.mode | 0o111);
  }
}
