/**
 * Discovery through the referrers API (OCI distribution 1.1):
 * `GET /v2/<name>/referrers/<digest>` answers an OCI index of the descriptors
 * of every manifest whose `subject` is that digest. No `artifactType` filter
 * is sent (every kind is carried), so an `OCI-Filters-Applied` header on the
 * answer means the list may be short, which is said as a warning. Pages are
 * followed through `Link: <…>; rel="next"`.
 *
 * The request goes where skopeo's copies go (src/mirror/registryClient.ts):
 * each pull source in order (mirrors first, as for a pull by digest); the
 * first that answers the API wins. A 404 (or 405/501) means that source has no
 * API; when no source has it, the caller falls back to the referrers tag
 * schema (`sha256-<hex>`), as the spec tells clients to, and later subjects
 * of the same image go straight there. A source that fails (cannot be
 * reached, refuses the credentials, answers an error) is passed over while
 * another answers, as skopeo passes over its pull sources; when none does,
 * the failure names each.
 *
 * What is found is stored as the tag schema stores it (see carry.ts): the
 * index {@link referrersIndexBytes} builds from the descriptors, under the
 * `sha256-<hex>` tag, each referrer beside it.
 */
import { MediaType } from "../inventory/model";
import { nextLink } from "../mirror/httpHeaders";
import { RegistryClient, UpstreamError } from "../mirror/registryClient";
import type { PullSource } from "../mirror/registriesConf";

export interface ReferrerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export type ReferrersLookup =
  { api: true; descriptors: ReferrerDescriptor[]; warnings: string[] } | { api: false };

const MAX_PAGES = 1000;
const NO_API = new Set([404, 405, 501]);
const SHA256 = /^sha256:[a-f0-9]{64}$/;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The descriptors of one page; bad ones are warnings, a page that is no index an error. */
export function parseReferrersPage(
  body: Buffer,
  what: string,
): { descriptors: ReferrerDescriptor[]; warnings: string[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString("utf8"));
  } catch {
    throw new Error(`${what} is not JSON`);
  }
  if (!isObject(doc) || !Array.isArray(doc.manifests))
    throw new Error(`${what} is not an index (no "manifests" list)`);
  const descriptors: ReferrerDescriptor[] = [];
  const warnings: string[] = [];
  for (const [i, d] of doc.manifests.entries()) {
    if (
      !isObject(d) ||
      typeof d.mediaType !== "string" ||
      typeof d.digest !== "string" ||
      typeof d.size !== "number" ||
      !Number.isSafeInteger(d.size) ||
      d.size < 0
    ) {
      warnings.push(`${what}: manifests[${i}] is not a descriptor; left out`);
      continue;
    }
    if (!SHA256.test(d.digest)) {
      warnings.push(`${what}: ${d.digest} is not a sha256 digest; left out`);
      continue;
    }
    const out: ReferrerDescriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
    if (typeof d.artifactType === "string") out.artifactType = d.artifactType;
    if (isObject(d.annotations)) {
      const a = Object.entries(d.annotations).filter((e): e is [string, string] => typeof e[1] === "string");
      if (a.length) out.annotations = Object.fromEntries(a);
    }
    descriptors.push(out);
  }
  return { descriptors, warnings };
}

/**
 * The index stored under `sha256-<hex>` for referrers found through the API:
 * their descriptors, one per digest, in digest order (so an unchanged list
 * gives the same bytes, and the tag is left alone on a re-run).
 */
export function referrersIndexBytes(descriptors: readonly ReferrerDescriptor[]): Buffer {
  const byDigest = new Map<string, ReferrerDescriptor>();
  for (const d of descriptors) if (!byDigest.has(d.digest)) byDigest.set(d.digest, d);
  const manifests = [...byDigest.values()].sort((a, b) =>
    a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0,
  );
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }));
}

/** The referrers API of one upstream repository (see the header). */
export class ReferrersApi {
  private noApi = false;
  private readonly host: string;

  constructor(
    private readonly client: RegistryClient,
    /** `host/path` as the reference names it. */
    private readonly name: string,
  ) {
    this.host = name.slice(0, name.indexOf("/"));
  }

  /** The referrers of `digest`, or `{api: false}` when the upstream has no referrers API. */
  async list(digest: string): Promise<ReferrersLookup> {
    if (this.noApi) return { api: false };
    const failures: string[] = [];
    let sawNoApi = false;
    for (const source of this.client.sources(this.name, true)) {
      try {
        const r = await this.fromSource(source, digest);
        if (r) return r;
        sawNoApi = true;
      } catch (e) {
        // As skopeo does with its pull sources: a failing one is passed over while another may answer.
        failures.push(this.named(source, e, digest).message);
      }
    }
    if (sawNoApi) {
      this.noApi = true;
      return { api: false };
    }
    throw new Error(failures.join("; "));
  }

  private named(source: PullSource, e: unknown, digest: string): Error {
    const label = RegistryClient.label(source, this.host);
    const msg = e instanceof UpstreamError ? e.message.slice(e.host.length + 2) : (e as Error).message;
    return new Error(`looking up the referrers of ${digest} at ${label}: ${msg}`);
  }

  /** The referrers from one source, or undefined when it has no API. */
  private async fromSource(source: PullSource, digest: string): Promise<ReferrersLookup | undefined> {
    const accept = MediaType.ociIndex;
    let a = await this.client.get(source, `referrers/${digest}`, accept);
    if (NO_API.has(a.status)) return undefined;
    const descriptors: ReferrerDescriptor[] = [];
    const warnings: string[] = [];
    const seen = new Set<string>();
    for (let page = 1; ; page++) {
      if (a.status !== 200)
        throw new Error(
          `GET ${a.url.pathname}${a.url.search} answered ${a.status}: ${a.body.toString("utf8").slice(0, 200).trim()}`,
        );
      const filters = a.headers["oci-filters-applied"];
      if (filters)
        warnings.push(
          `${RegistryClient.label(source, this.host)} applied filters (${String(filters)}) to the referrers of ${digest} though none were asked; the list may be incomplete`,
        );
      const p = parseReferrersPage(a.body, `the referrers of ${digest} (page ${page})`);
      descriptors.push(...p.descriptors);
      warnings.push(...p.warnings);
      const next = nextLink(a.headers.link, a.url);
      if (!next) break;
      if (next.origin !== a.url.origin)
        throw new Error(`the referrers of ${digest}: the next page is on another server (${next.origin})`);
      if (seen.has(next.href) || page >= MAX_PAGES)
        throw new Error(`the referrers of ${digest}: pagination does not end`);
      seen.add(next.href);
      a = await this.client.get(source, "", accept, next);
    }
    return { api: true, descriptors, warnings };
  }
}
