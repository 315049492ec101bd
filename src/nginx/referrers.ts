/**
 * The referrers API (OCI distribution 1.1): `GET /v2/<name>/referrers/<digest>`
 * answers an OCI index of the descriptors of the repository's manifests whose
 * `subject` is that digest. Computed here, at render time.
 *
 * A page's descriptors are one map value, so a long list is split into pages
 * that each fit in one nginx token; page k+1 is keyed by the digest of the last
 * descriptor of page k and reached through the `Link` header
 * (`?last=<digest>`), as the spec allows.
 */
import type { Digest, ManifestRecord } from "../inventory/model";
import { byteOrder } from "../inventory/model";
import { MAX_TOKEN_BYTES, RenderError, jsonText } from "./escape";

export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";

/** The body nginx sends when a known repository has no referrers for a digest (and around every page). */
export function referrersBody(descriptorsJson: string): string {
  return `{"schemaVersion":2,"mediaType":"${OCI_INDEX}","manifests":[${descriptorsJson}]}`;
}

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

/** One page of referrers: keyed by the digest of the previous page's last descriptor ("" for the first). */
export interface ReferrersPage {
  last: Digest | "";
  /** Descriptors (JSON) joined by ",". */
  json: string;
  /** The digest to continue after, when another page follows. */
  next?: Digest;
}

/**
 * The map value of a page: `R`, the hex of `next` (empty on the last page),
 * `|`, the descriptors.
 */
export function encodePage(p: ReferrersPage): string {
  return `R${p.next ? p.next.slice("sha256:".length) : ""}|${p.json}`;
}

/** Quoted token bytes of a page value, an upper bound (quotes and escapes of `\` and `'`). */
function pageBytes(json: string, hasNext: boolean): number {
  const escapes = (json.match(/[\\']/g) ?? []).length;
  return 2 + 1 + (hasNext ? 64 : 0) + 1 + Buffer.byteLength(json) + escapes;
}

/**
 * Splits the referrers (sorted by digest) into pages that each fit in one
 * token. A descriptor that cannot fit even alone loses its annotations (the
 * client can still fetch the manifest to read them); if it still does not
 * fit, rendering fails.
 */
export function referrersPages(
  referrers: readonly ManifestRecord[],
  budget = MAX_TOKEN_BYTES,
): ReferrersPage[] {
  const items = referrers.map((m) => {
    let json = descriptorJson(m);
    if (pageBytes(json, true) > budget) json = descriptorJson(m, false);
    if (pageBytes(json, true) > budget) {
      throw new RenderError(`the referrers descriptor of ${m.digest} is too long for one nginx value`);
    }
    return { digest: m.digest, json };
  });
  const pages: ReferrersPage[] = [];
  let last: Digest | "" = "";
  let i = 0;
  do {
    let json = "";
    let j = i;
    while (j < items.length) {
      const candidate = json === "" ? items[j].json : `${json},${items[j].json}`;
      // Reserve room for a `next` digest unless this item would be the very last.
      if (json !== "" && pageBytes(candidate, j + 1 < items.length) > budget) break;
      json = candidate;
      j++;
    }
    const next = j < items.length ? items[j - 1].digest : undefined;
    pages.push({ last, json, next });
    if (next) last = next;
    i = j;
  } while (i < items.length);
  return pages;
}
