/**
 * Tiny hand-written image trees for scan unit tests: no skopeo needed, every
 * byte chosen here, so each test can break exactly one thing.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export const hex = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");
export const dig = (b: Buffer | string) => `sha256:${hex(b)}`;

export interface Blob {
  bytes: Buffer;
  mediaType: string;
}

export const blob = (text: string, mediaType = "application/vnd.oci.image.layer.v1.tar+gzip"): Blob => ({
  bytes: Buffer.from(text),
  mediaType,
});

export const configBlob = (arch = "amd64") =>
  blob(
    JSON.stringify({ architecture: arch, os: "linux", rootfs: { type: "layers", diff_ids: [] } }),
    "application/vnd.oci.image.config.v1+json",
  );

const desc = (b: Blob) => ({ mediaType: b.mediaType, digest: dig(b.bytes), size: b.bytes.length });

/** An image manifest document (OCI unless mediaType says otherwise). */
export function imageManifest(
  config: Blob,
  layers: Blob[],
  extra: Record<string, unknown> = {},
  mediaType: string | null = "application/vnd.oci.image.manifest.v1+json",
): Buffer {
  const doc: Record<string, unknown> = { schemaVersion: 2 };
  if (mediaType) doc.mediaType = mediaType;
  doc.config = desc(config);
  doc.layers = layers.map(desc);
  Object.assign(doc, extra);
  return Buffer.from(JSON.stringify(doc));
}

export function indexManifest(
  children: { bytes: Buffer; arch: string }[],
  mediaType = "application/vnd.oci.image.index.v1+json",
): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      manifests: children.map((c) => ({
        mediaType: JSON.parse(c.bytes.toString()).mediaType ?? "application/vnd.oci.image.manifest.v1+json",
        digest: dig(c.bytes),
        size: c.bytes.length,
        platform: { architecture: c.arch, os: "linux" },
      })),
    }),
  );
}

/** Writes a skopeo dir: tag directory: manifest.json, version, blobs named by hex. */
export function writeTagDir(
  root: string,
  repo: string,
  tag: string,
  manifest: Buffer,
  blobs: Blob[],
  children: Buffer[] = [],
) {
  const dir = path.join(root, repo, tag);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "manifest.json"), manifest);
  fs.writeFileSync(path.join(dir, "version"), "Directory Transport Version: 1.1\n");
  for (const b of blobs) fs.writeFileSync(path.join(dir, hex(b.bytes)), b.bytes);
  for (const c of children) fs.writeFileSync(path.join(dir, `${hex(c)}.manifest.json`), c);
  return dir;
}

/** Writes an OCI image layout holding the given documents and blobs. */
export function writeLayout(
  root: string,
  repo: string,
  refs: { manifest: Buffer; ref?: string; mediaType?: string }[],
  blobs: (Blob | Buffer)[],
) {
  const dir = path.join(root, repo);
  const blobDir = path.join(dir, "blobs", "sha256");
  fs.mkdirSync(blobDir, { recursive: true });
  fs.writeFileSync(path.join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  for (const b of blobs) {
    const bytes = Buffer.isBuffer(b) ? b : b.bytes;
    fs.writeFileSync(path.join(blobDir, hex(bytes)), bytes);
  }
  for (const r of refs) fs.writeFileSync(path.join(blobDir, hex(r.manifest)), r.manifest);
  const index = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: refs.map((r) => ({
      mediaType: r.mediaType ?? JSON.parse(r.manifest.toString()).mediaType,
      digest: dig(r.manifest),
      size: r.manifest.length,
      ...(r.ref ? { annotations: { "org.opencontainers.image.ref.name": r.ref } } : {}),
    })),
  };
  fs.writeFileSync(path.join(dir, "index.json"), JSON.stringify(index));
  return dir;
}
