/**
 * The referrers API (OCI distribution 1.1): `GET /v2/<name>/referrers/<digest>`
 * answers an OCI index of the descriptors of the repository's manifests whose
 * `subject` is that digest. The descriptors are computed here, at render time;
 * the njs handler (njs.ts) joins them and applies `?artifactType=`.
 *
 * They are stored as chunks of the list map (listData.ts): one map value holds
 * at most one nginx token, so many referrers take several chunks. A descriptor
 * that cannot fit in a chunk even alone loses its annotations (the client can
 * still fetch the manifest to read them).
 */
import type { ManifestRecord } from "../inventory/model";
import { MediaType, byteOrder } from "../inventory/model";
import { MAX_TOKEN_BYTES, RenderError, jsonText } from "./escape";

export const OCI_INDEX = MediaType.ociIndex;

/**
 * The descriptor of a referrer, as JSON safe for an nginx value. Annotation
 * keys are sorted so the output does not depend on how the record was built.
 */
export function descriptorJson(m: ManifestRecord, withAnnotations = true): string {
  const d: Record<string, unknown> = { mediaType: m.mediaType, digest: m.digest, size: m.size };
  if (m.artifactType !== undefined) d.artifactType = m.artifactType;
  if (withAnnotations && m.annotations && Object.keys(m.annotations).length > 0) {
    const sorted: Record<string, string> = {};
    for (const k of Object.keys(m.annotations).sort(byteOrder)) sorted[k] = m.annotations[k];
    d.annotations = sorted;
  }
  return jsonText(d);
}

/** Quoted token bytes of a value, an upper bound (quotes, and escapes of `\` and `'`). */
function valueBytes(json: string): number {
  return 2 + Buffer.byteLength(json) + (json.match(/[\\']/g) ?? []).length;
}

/**
 * The descriptors of `referrers` (sorted by digest), in chunks that each fit
 * in one token: each chunk is descriptors joined by ",".
 */
export function referrerChunks(referrers: readonly ManifestRecord[], budget = MAX_TOKEN_BYTES): string[] {
  const chunks: string[] = [];
  let cur = "";
  for (const m of referrers) {
    let json = descriptorJson(m);
    if (valueBytes(json) > budget) json = descriptorJson(m, false);
    if (valueBytes(json) > budget) {
      throw new RenderError(`the referrers descriptor of ${m.digest} is too long for one nginx value`);
    }
    const joined = cur === "" ? json : `${cur},${json}`;
    if (cur !== "" && valueBytes(joined) > budget) {
      chunks.push(cur);
      cur = json;
    } else cur = joined;
  }
  if (cur !== "") chunks.push(cur);
  return chunks;
}
