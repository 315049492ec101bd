/**
 * Pushing hand-made blobs and manifests to a test registry over the
 * distribution API (a monolithic upload, then the manifest), for what skopeo
 * cannot push: cosign signature manifests as cosign writes them, OCI 1.1
 * artifacts with a `subject`, and referrers indexes. The bytes arrive as
 * given, so their digests are the ones the test computed.
 */
import { sha256 } from "../../src/inventory/manifest";

export interface Pushed {
  mediaType: string;
  digest: string;
  size: number;
}

/** Uploads `data` to `repo` on `base` (`http://127.0.0.1:PORT`). */
export async function pushBlob(
  base: string,
  repo: string,
  data: Buffer,
): Promise<{ digest: string; size: number }> {
  const digest = sha256(data);
  const start = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: "POST" });
  if (start.status !== 202)
    throw new Error(`starting an upload to ${repo}: ${start.status} ${await start.text()}`);
  const at = new URL(start.headers.get("location")!, base);
  at.searchParams.set("digest", digest);
  const put = await fetch(at, {
    method: "PUT",
    body: data,
    headers: { "content-type": "application/octet-stream" },
  });
  if (put.status !== 201)
    throw new Error(`uploading ${digest} to ${repo}: ${put.status} ${await put.text()}`);
  return { digest, size: data.length };
}

/** Puts manifest `bytes` under `reference` (a tag or its digest) in `repo`. */
export async function pushManifest(
  base: string,
  repo: string,
  reference: string,
  bytes: Buffer,
  mediaType: string,
): Promise<Pushed> {
  const r = await fetch(`${base}/v2/${repo}/manifests/${reference}`, {
    method: "PUT",
    body: bytes,
    headers: { "content-type": mediaType },
  });
  if (r.status !== 201) throw new Error(`putting ${repo}:${reference}: ${r.status} ${await r.text()}`);
  return { mediaType, digest: sha256(bytes), size: bytes.length };
}

/** Pushes every blob of `blobs`, then the manifest. */
export async function pushImage(
  base: string,
  repo: string,
  reference: string,
  image: { manifest: Buffer; blobs: Map<string, Buffer> },
  mediaType = "application/vnd.oci.image.manifest.v1+json",
): Promise<Pushed> {
  for (const b of image.blobs.values()) await pushBlob(base, repo, b);
  return pushManifest(base, repo, reference, image.manifest, mediaType);
}
