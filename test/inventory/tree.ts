/**
 * Tiny hand-written image trees for scan unit tests: no skopeo needed, every
 * byte chosen here, so each test can break exactly one thing.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { sha256 } from "../../src/inventory";

export const dig = (b: Buffer | string) => sha256(b);
export const hex = (b: Buffer | string) => dig(b).slice("sha256:".length);

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

/**
 * A tree with everything whose handling could depend on the order a directory
 * lists in: repositories and tags in several directories, a blob held by two
 * tags as a copy and by a third through a hard link (only one file serves it),
 * a multi-arch index with children, an OCI layout with two tags and a
 * referrer, names whose byte order is not the walk's (`team-c` sorts before
 * `team/a`), a symbolic link inside the root, and problems in two places.
 * `reversed` adds the tags, and the layout's index.json entries, in the other
 * order (as copying the same images in another order would).
 */
export function writeMixedTree(root: string, reversed = false): void {
  const order = <T>(list: T[]) => (reversed ? [...list].reverse() : list);
  const cfg = configBlob();
  const shared = blob("shared layer");
  const tags: [string, string][] = order([
    ["team/b", "2.0"],
    ["team/b", "10.0"],
    ["team/a", "latest"],
    ["team-c/x", "1"],
    ["library/alpine", "3.19"],
  ]);
  const dirs = tags.map(([repo, tag]) => {
    const own = blob(`${repo}:${tag}`);
    return writeTagDir(root, repo, tag, imageManifest(cfg, [shared, own]), [cfg, shared, own]);
  });
  // A hard link from the last tag written to the first.
  const linked = path.join(dirs[dirs.length - 1], hex(shared.bytes));
  fs.rmSync(linked);
  fs.linkSync(path.join(dirs[0], hex(shared.bytes)), linked);
  const amd = imageManifest(configBlob("amd64"), [shared]);
  const arm = imageManifest(configBlob("arm64"), [shared]);
  const idx = indexManifest([
    { bytes: amd, arch: "amd64" },
    { bytes: arm, arch: "arm64" },
  ]);
  writeTagDir(root, "multi", "1.0", idx, [configBlob("amd64"), configBlob("arm64"), shared], [amd, arm]);
  const tool = imageManifest(cfg, [blob("tool")]);
  const empty = blob("{}", "application/vnd.oci.empty.v1+json");
  const sbom = imageManifest(empty, [blob('{"sbom":1}', "application/spdx+json")], {
    artifactType: "application/vnd.example.sbom.v1",
    subject: {
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      digest: dig(tool),
      size: tool.length,
    },
  });
  writeLayout(
    root,
    "layouts/tools",
    order([{ manifest: tool, ref: "v1" }, { manifest: tool, ref: "v2" }, { manifest: sbom }]),
    order([cfg, blob("tool"), empty, blob('{"sbom":1}', "application/spdx+json")]),
  );
  fs.symlinkSync("../team/a/latest", path.join(root, "library", "alias"));
  writeTagDir(root, "broken/json", "1", Buffer.from("{nope"), []);
  writeTagDir(root, "broken/missing", "1", imageManifest(cfg, [blob("nowhere")]), [cfg]);
}
