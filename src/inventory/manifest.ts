/**
 * Parsing of one manifest document (image manifest or index) into the facts the
 * Inventory needs. Pure: bytes in, facts or a list of problems out.
 */
import { createHash } from "node:crypto";
import { isSha256Digest } from "./grammar";
import { MANIFEST_MEDIA_TYPES, MediaType, type Digest } from "./model";

export interface Descriptor {
  mediaType?: string;
  digest: Digest;
  size: number;
  platform?: { architecture?: string; os?: string; variant?: string };
  annotations?: Record<string, string>;
  artifactType?: string;
}

export interface ParsedManifest {
  mediaType: string;
  kind: "image" | "index";
  /** Index: child manifests. */
  children: Descriptor[];
  /** Image: config then layers. */
  blobs: Descriptor[];
  subject?: Digest;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/**
 * The largest manifest clients accept: containerd, skopeo and podman
 * (containers/image) refuse to read one over 4 MiB, so a larger one could be
 * served but never pulled.
 */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** Bound on an index.json or oci-layout file (read whole, never served). */
export const MAX_METADATA_BYTES = 64 * 1024 * 1024;

export function sha256(bytes: Buffer | string): Digest {
  return "sha256:" + createHash("sha256").update(bytes).digest("hex");
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Checks one descriptor; returns a problem message or the descriptor. */
function parseDescriptor(v: unknown, where: string): Descriptor | string {
  if (!isObject(v)) return `${where} is not an object`;
  const { digest, size } = v;
  if (typeof digest !== "string") return `${where} has no digest`;
  if (!digest.startsWith("sha256:"))
    return `${where}: digest ${digest} is not sha256 (only sha256 is supported)`;
  if (!isSha256Digest(digest)) return `${where}: malformed digest ${JSON.stringify(digest)}`;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0)
    return `${where}: size must be a non-negative integer`;
  const d: Descriptor = { digest, size };
  if (typeof v.mediaType === "string") d.mediaType = v.mediaType;
  if (typeof v.artifactType === "string") d.artifactType = v.artifactType;
  if (isObject(v.platform)) d.platform = v.platform as Descriptor["platform"];
  if (isObject(v.annotations)) d.annotations = stringRecord(v.annotations);
  return d;
}

function stringRecord(o: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(o)) if (typeof val === "string") out[k] = val;
  return out;
}

/**
 * Parses manifest bytes. `hintMediaType` is the media type of the descriptor
 * that pointed at it (OCI layouts), used when the document has none.
 * Returns problem messages (without the file name) on failure.
 */
export function parseManifest(bytes: Buffer, hintMediaType?: string): ParsedManifest | string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString("utf8"));
  } catch (e) {
    return [`is not valid JSON: ${(e as Error).message}`];
  }
  if (!isObject(doc)) return ["is not a JSON object"];
  if (doc.schemaVersion !== 2) {
    return [
      doc.schemaVersion === 1
        ? "is a Docker schema 1 manifest, which is not supported (convert it with skopeo copy --format v2s2)"
        : `has schemaVersion ${JSON.stringify(doc.schemaVersion)}; expected 2`,
    ];
  }
  // OCI allows mediaType to be absent: infer it from the shape (and the pointing descriptor).
  let mediaType = typeof doc.mediaType === "string" ? doc.mediaType : undefined;
  if (mediaType === undefined) {
    if (hintMediaType && MANIFEST_MEDIA_TYPES[hintMediaType]) mediaType = hintMediaType;
    else if (Array.isArray(doc.manifests)) mediaType = MediaType.ociIndex;
    else if (isObject(doc.config)) mediaType = MediaType.ociManifest;
    else return ["has no mediaType and is neither an image manifest (config) nor an index (manifests)"];
  }
  const kind = MANIFEST_MEDIA_TYPES[mediaType];
  if (!kind) return [`has unknown media type ${JSON.stringify(mediaType)}`];

  const problems: string[] = [];
  const out: ParsedManifest = { mediaType, kind, children: [], blobs: [] };
  if (kind === "index") {
    if (!Array.isArray(doc.manifests)) return ["is an index without a manifests array"];
    doc.manifests.forEach((m, i) => {
      const d = parseDescriptor(m, `manifests[${i}]`);
      if (typeof d === "string") problems.push(d);
      else out.children.push(d);
    });
  } else {
    const c = parseDescriptor(doc.config, "config");
    if (typeof c === "string") problems.push(c);
    else out.blobs.push(c);
    const layers = doc.layers ?? [];
    if (!Array.isArray(layers)) problems.push("layers is not an array");
    else
      layers.forEach((l, i) => {
        const d = parseDescriptor(l, `layers[${i}]`);
        if (typeof d === "string") problems.push(d);
        else out.blobs.push(d);
      });
  }
  if (doc.subject !== undefined) {
    const s = parseDescriptor(doc.subject, "subject");
    if (typeof s === "string") problems.push(s);
    else out.subject = s.digest;
  }
  if (typeof doc.artifactType === "string") out.artifactType = doc.artifactType;
  else if (kind === "image" && out.blobs[0]?.mediaType) out.artifactType = out.blobs[0].mediaType; // OCI 1.1 referrers: the config type stands in for it
  if (isObject(doc.annotations)) out.annotations = stringRecord(doc.annotations);
  return problems.length ? problems : out;
}
