/**
 * The Inventory: a plain, JSON-serialisable description of everything the
 * registry will serve. No I/O, no nginx, no Pulumi: `scan` builds it from disk,
 * everything downstream (render, check, the component) is a pure function of it.
 */

/** A content digest, always `sha256:<64 lowercase hex>` in an Inventory. */
export type Digest = string;

export const MediaType = {
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  /** The config blobs of runnable images (any other config media type makes an artifact). */
  ociConfig: "application/vnd.oci.image.config.v1+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
} as const;

/** Media types a manifest may be served with, and whether each is an index. */
export const MANIFEST_MEDIA_TYPES: Readonly<Record<string, "image" | "index">> = {
  [MediaType.dockerManifest]: "image",
  [MediaType.ociManifest]: "image",
  [MediaType.dockerManifestList]: "index",
  [MediaType.ociIndex]: "index",
};

/** A blob (config, layer, or any artifact blob) and the one file that serves it. */
export interface BlobRecord {
  digest: Digest;
  size: number;
  /** Path of the file relative to the images root, `/`-separated. */
  path: string;
}

/** A manifest (image manifest or index) and the one file that serves it. */
export interface ManifestRecord {
  digest: Digest;
  size: number;
  /** The media type it is served with (stored or inferred). */
  mediaType: string;
  kind: "image" | "index";
  /** Path of the file relative to the images root, `/`-separated. */
  path: string;
  /** For an index: the digests of its child manifests (in document order). */
  children: Digest[];
  /** For an image manifest: its config and layer digests (in document order). */
  blobs: Digest[];
  /** The `subject` digest (OCI 1.1 referrers), if any. */
  subject?: Digest;
  /** `artifactType`, or for an image manifest without one, its config media type. */
  artifactType?: string;
  /** Manifest annotations, copied into referrers responses. */
  annotations?: Record<string, string>;
}

export interface TagRecord {
  name: string;
  digest: Digest;
  /** The file the tag was read from (relative to root): a manifest.json or an index.json. */
  source: string;
}

export interface RepositoryRecord {
  /** Full repository name as served (without any name prefix applied by render). */
  name: string;
  /** Sorted by name (byte order). */
  tags: TagRecord[];
  /** Every manifest reachable from the tags (tags and index children), sorted. */
  manifests: Digest[];
  /** Every blob referenced by those manifests, sorted. */
  blobs: Digest[];
}

export interface Problem {
  /** The file or directory at fault, relative to root (`.` for root itself). */
  file: string;
  message: string;
}

export interface Inventory {
  /** Absolute path of the images root that was scanned. */
  root: string;
  /** Sorted by name. */
  repositories: RepositoryRecord[];
  /** Keyed by digest. */
  manifests: Record<Digest, ManifestRecord>;
  /** Keyed by digest. Manifests are not listed here. */
  blobs: Record<Digest, BlobRecord>;
  /** Empty for a valid tree. */
  problems: Problem[];
  /**
   * Things that do not make the tree invalid but are likely mistakes (no images
   * at all, a tag directory without manifest.json). `check` shows them without
   * failing; nothing refuses to serve because of them. Absent means none.
   */
  warnings?: Problem[];
}

/** Byte-order comparison (what the distribution spec calls lexical order). */
export function byteOrder(a: string, b: string): number {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return Buffer.compare(ba, bb);
}

/** The manifests of `repo` whose `subject` is `digest`, sorted by digest. */
export function referrersOf(inv: Inventory, repo: RepositoryRecord, digest: Digest): ManifestRecord[] {
  return repo.manifests
    .map((d) => inv.manifests[d])
    .filter((m): m is ManifestRecord => m !== undefined && m.subject === digest);
}

/** Totals used by `check`, the component's outputs and the benchmarks. */
export interface InventorySummary {
  /** Repositories served (an integer). */
  repositories: number;
  /** Tags served, over all repositories (an integer). */
  tags: number;
  /** Unique manifests, image indexes included (an integer). */
  manifests: number;
  /** Unique blobs: layers and configs (an integer). */
  blobs: number;
  /** Bytes of unique blobs plus unique manifests (an integer). */
  bytes: number;
}

export function summarize(inv: Inventory): InventorySummary {
  const manifests = Object.values(inv.manifests);
  const blobs = Object.values(inv.blobs);
  return {
    repositories: inv.repositories.length,
    tags: inv.repositories.reduce((n, r) => n + r.tags.length, 0),
    manifests: manifests.length,
    blobs: blobs.length,
    bytes: manifests.reduce((n, m) => n + m.size, 0) + blobs.reduce((n, b) => n + b.size, 0),
  };
}
