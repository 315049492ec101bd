/**
 * What the catalog page computes from the registry's answers: sizes, kinds,
 * platforms, what refers to an image, pull commands, the visible part of a
 * page of tags. Pure functions of their arguments, imported by the node tests
 * and shipped to the browser as they are (bundle.ts), so both run this very
 * code. Only what a browser has may be used here (no Buffer, no node:*), and
 * only modules that keep to the same rule may be imported.
 */
import { MANIFEST_MEDIA_TYPES, MediaType } from "../inventory/model";
import { hostOfRepository } from "../mirror/reference";
import { parseProvenanceTag } from "../provenance/tags";

export interface Platform {
  os?: string;
  architecture?: string;
  variant?: string;
  "os.version"?: string;
}

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  platform?: Platform;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** A manifest or index as JSON (only the fields the page reads). */
export interface ManifestDoc {
  mediaType?: string;
  artifactType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** The meta element through which the config tells the page the registry's name prefix. */
export const PREFIX_META = "static-container-registry-name-prefix";

const UNITS = ["KiB", "MiB", "GiB", "TiB"];

/** Bytes as people read them: "512 B", "1.5 KiB", "23.4 MiB", "512 MiB" (binary units). */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "unknown size";
  if (bytes < 1024) return `${bytes} B`;
  let v = bytes;
  let i = -1;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  // 1023.95 KiB would round to "1024 KiB": move up a unit instead.
  if (v >= 1023.5 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 100 ? v.toFixed(1) : Math.round(v)} ${UNITS[i]}`;
}

/** An RFC 3339 time as "2024-01-01 00:00 UTC", or "" when there is none or it does not parse. */
export function formatCreated(created: unknown): string {
  if (typeof created !== "string" || created === "") return "";
  const t = Date.parse(created);
  if (Number.isNaN(t)) return "";
  return `${new Date(t).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** "linux/arm64/v8" (and the OS version, for Windows images), or "unknown platform". */
export function platformString(p: Platform | undefined): string {
  if (!p || !p.os || !p.architecture) return "unknown platform";
  const s = [p.os, p.architecture, p.variant].filter((x) => x).join("/");
  return p["os.version"] ? `${s} (${p["os.version"]})` : s;
}

/** The target of a `Link: <…>; rel="next"` header (list endpoints), or undefined. */
export function nextLink(link: string | null | undefined): string | undefined {
  if (!link) return undefined;
  const m = /<([^>]*)>\s*;\s*rel="?next"?/.exec(link);
  return m ? m[1] : undefined;
}

export function isIndex(mediaType: string | undefined, doc: ManifestDoc): boolean {
  if (mediaType && mediaType in MANIFEST_MEDIA_TYPES) return MANIFEST_MEDIA_TYPES[mediaType] === "index";
  return Array.isArray(doc.manifests);
}

export interface PlatformEntry {
  platform: string;
  digest: string;
  /** The platform manifest's own bytes. */
  size: number;
  mediaType: string;
}

/**
 * The platforms of an index, in its order. BuildKit's attestation manifests
 * (`vnd.docker.reference.type: attestation-manifest`, platform unknown/unknown)
 * are not platforms: they are counted as attestations of the index instead.
 */
export function platformsOf(index: ManifestDoc): { platforms: PlatformEntry[]; attestations: number } {
  const platforms: PlatformEntry[] = [];
  let attestations = 0;
  for (const d of index.manifests ?? []) {
    if (d.annotations?.["vnd.docker.reference.type"] === "attestation-manifest") {
      attestations++;
      continue;
    }
    platforms.push({
      platform: platformString(d.platform),
      digest: d.digest,
      size: d.size,
      mediaType: d.mediaType ?? "",
    });
  }
  return { platforms, attestations };
}

const IMAGE_CONFIG_TYPES: readonly string[] = [MediaType.ociConfig, MediaType.dockerConfig];

export type Provenance = "signature" | "attestation" | "sbom";

/** What a media type or artifact type says the thing is, when it is one of cosign's and its kin. */
export function provenanceKind(type: string | undefined): Provenance | undefined {
  const t = (type ?? "").toLowerCase();
  if (t === "") return undefined;
  if (/spdx|cyclonedx|sbom|syft/.test(t)) return "sbom";
  if (/in-toto|intoto|dsse|attestation|provenance|vuln/.test(t)) return "attestation";
  if (/signature|simplesigning|cosign\.artifact\.sig|notary/.test(t)) return "signature";
  return undefined;
}

export type ManifestKind = "index" | "image" | Provenance | "artifact";

/**
 * What a manifest is: an index of platforms, a runnable image, one of
 * cosign's signatures / attestations / SBOMs (by the media type of its
 * layers or its artifact type), or another OCI artifact (its type given).
 */
export function manifestKind(
  mediaType: string | undefined,
  doc: ManifestDoc,
): { kind: ManifestKind; type?: string } {
  if (isIndex(mediaType, doc)) return { kind: "index" };
  const configType = doc.config?.mediaType;
  const layerTypes = (doc.layers ?? []).map((l) => l.mediaType);
  for (const t of [doc.artifactType, ...layerTypes]) {
    const p = provenanceKind(t);
    if (p) return { kind: p, type: doc.artifactType ?? t };
  }
  if (doc.artifactType) return { kind: "artifact", type: doc.artifactType };
  if (configType && !IMAGE_CONFIG_TYPES.includes(configType)) return { kind: "artifact", type: configType };
  return { kind: "image" };
}

/** How the page names a kind and its manifest's format. */
export function kindLabel(kind: ManifestKind, mediaType: string | undefined, type?: string): string {
  const format =
    mediaType === MediaType.dockerManifest || mediaType === MediaType.dockerManifestList ? "Docker" : "OCI";
  switch (kind) {
    case "index":
      return `multi-platform ${format === "Docker" ? "manifest list (Docker)" : "index (OCI)"}`;
    case "image":
      return `image (${format})`;
    case "signature":
      return "signature";
    case "attestation":
      return "attestation";
    case "sbom":
      return "SBOM";
    default:
      return `artifact${type ? ` (${type})` : ""}`;
  }
}

/** The bytes a pull fetches: every manifest given, and each distinct config and layer blob once. */
export function totalSize(manifests: readonly { size: number; doc: ManifestDoc }[]): number {
  const seen: Record<string, true> = {};
  let total = 0;
  for (const m of manifests) {
    total += m.size;
    for (const b of [...(m.doc.config ? [m.doc.config] : []), ...(m.doc.layers ?? [])]) {
      if (seen[b.digest]) continue;
      seen[b.digest] = true;
      total += b.size;
    }
  }
  return total;
}

/**
 * cosign's tag scheme (src/provenance/tags.ts): `sha256-<hex>.sig` / `.att` /
 * `.sbom` hold what refers to `sha256:<hex>`. (A bare `sha256-<hex>` tag is
 * listed: a referrers index, or an image pinned by digest.)
 */
export function cosignTag(tag: string): { kind: Provenance; digest: string } | undefined {
  const p = parseProvenanceTag(tag);
  return p && p.kind !== "referrers" ? { kind: p.kind, digest: p.subject } : undefined;
}

/** The kind of a referrer (a descriptor of the referrers API), from its artifact type and annotations. */
export function referrerKind(d: Descriptor): Provenance | "other" {
  // Sigstore bundles carry signatures and attestations alike; the predicate type tells them apart.
  const predicate = d.annotations?.["dev.sigstore.bundle.predicateType"];
  if (predicate !== undefined)
    return predicate === "https://sigstore.dev/cosign/sign/v1" ? "signature" : "attestation";
  return provenanceKind(d.artifactType) ?? provenanceKind(d.mediaType) ?? "other";
}

export interface ProvenanceCounts {
  signature: number;
  attestation: number;
  sbom: number;
  other: number;
}

/**
 * What refers to an image, counted: each layer of a cosign tag's manifest
 * (one signature, attestation or SBOM each), each referrer, and BuildKit's
 * attestation manifests inside an index.
 */
export function countProvenance(
  cosign: readonly { kind: Provenance; layers: number }[],
  referrers: readonly Descriptor[],
  indexAttestations = 0,
): ProvenanceCounts {
  const c: ProvenanceCounts = { signature: 0, attestation: indexAttestations, sbom: 0, other: 0 };
  for (const t of cosign) c[t.kind] += Math.max(1, t.layers);
  for (const r of referrers) c[referrerKind(r)]++;
  return c;
}

/** "1 signature, 2 SBOMs", or "none". */
export function countsText(c: ProvenanceCounts): string {
  const words: [number, string, string][] = [
    [c.signature, "signature", "signatures"],
    [c.attestation, "attestation", "attestations"],
    [c.sbom, "SBOM", "SBOMs"],
    [c.other, "other referrer", "other referrers"],
  ];
  const parts = words.filter(([n]) => n > 0).map(([n, one, many]) => `${n} ${n === 1 ? one : many}`);
  return parts.length ? parts.join(", ") : "none";
}

/**
 * The visible tags of a page: `raw` is the tag list after the page's start,
 * in order; cosign's tags are hidden unless `showAll`. `cursor` is the last
 * tag the page used up (the next page's `last`); `hidden` counts the tags
 * skipped before it.
 */
export function visibleTags(
  raw: readonly string[],
  want: number,
  showAll: boolean,
): { tags: string[]; cursor: string | undefined; hidden: number; rest: number } {
  const tags: string[] = [];
  let hidden = 0;
  let i = 0;
  for (; i < raw.length && tags.length < want; i++) {
    if (!showAll && cosignTag(raw[i])) hidden++;
    else tags.push(raw[i]);
  }
  return { tags, cursor: i > 0 ? raw[i - 1] : undefined, hidden, rest: raw.length - i };
}

/** "50 tags after v1.49.0, more on the next page (3 cosign tags not listed, …)." */
export function tagsStatus(shown: number, after: string | undefined, more: boolean, hidden: number): string {
  const what =
    shown === 0
      ? after === undefined
        ? "No tags"
        : `No tags after ${after}`
      : `${shown} tag${shown === 1 ? "" : "s"}${after === undefined ? "" : ` after ${after}`}` +
        (more ? ", more on the next page" : "");
  const skipped = hidden
    ? ` (${hidden} cosign tag${hidden === 1 ? "" : "s"} not listed: counted on the images they refer to)`
    : "";
  return `${what}${skipped}.`;
}

/** Repositories whose name holds every word of `query` (case-insensitive), in the catalog's order. */
export function filterRepositories(names: readonly string[], query: string): string[] {
  const words = query
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w !== "");
  if (words.length === 0) return [...names];
  return names.filter((n) => {
    const lower = n.toLowerCase();
    return words.every((w) => lower.includes(w));
  });
}

/**
 * The name the images had upstream, under which a node whose containerd is
 * wired to this registry (hosts.toml per upstream host) pulls them: the
 * served name without the registry's name prefix, when it then starts with
 * a host (`docker.io/library/alpine`, `localhost_5000/app` → `localhost:5000/app`).
 * With the prefix unknown (several roots in one server), the first host-like
 * component is where the original name starts.
 */
export function originalName(name: string, prefix: string | undefined): string | undefined {
  const fromHost = (rest: string) => {
    const host = hostOfRepository(rest);
    return host === undefined ? undefined : host + rest.slice(rest.indexOf("/"));
  };
  if (prefix !== undefined) return name.startsWith(prefix) ? fromHost(name.slice(prefix.length)) : undefined;
  const parts = name.split("/");
  for (let i = 0; i < parts.length - 1; i++) {
    const found = fromHost(parts.slice(i).join("/"));
    if (found) return found;
  }
  return undefined;
}

export interface PullCommand {
  label: string;
  command: string;
}

/**
 * Copyable pull commands for a tag: from this registry (`host` as the page
 * was reached) by tag and by digest, and, for images stored under their
 * upstream host, by the original name through a wired node's containerd.
 */
export function pullCommands(o: {
  host: string;
  name: string;
  tag?: string;
  digest?: string;
  prefix?: string;
}): PullCommand[] {
  const out: PullCommand[] = [];
  const here = `${o.host}/${o.name}`;
  if (o.tag !== undefined) out.push({ label: "by tag", command: `docker pull ${here}:${o.tag}` });
  if (o.digest) out.push({ label: "by digest", command: `docker pull ${here}@${o.digest}` });
  const original = originalName(o.name, o.prefix);
  if (original) {
    if (o.tag !== undefined)
      out.push({ label: "original name, on a wired node", command: `crictl pull ${original}:${o.tag}` });
    if (o.digest)
      out.push({
        label: "original name by digest, on a wired node",
        command: `crictl pull ${original}@${o.digest}`,
      });
  }
  return out;
}

/** Where the page is: the list of repositories (with a search), or one repository's tags from `after`. */
export type Route =
  | { view: "repositories"; query: string }
  | { view: "repository"; name: string; after?: string; all: boolean };

/** The route of a location hash: `#/?q=alp`, `#/r/library/alpine?after=3.18&all=1`. */
export function parseRoute(hash: string): Route {
  const h = hash.replace(/^#/, "");
  const q = h.indexOf("?");
  const path = q < 0 ? h : h.slice(0, q);
  const params = new URLSearchParams(q < 0 ? "" : h.slice(q + 1));
  if (path.startsWith("/r/") && path.length > 3) {
    const after = params.get("after");
    return {
      view: "repository",
      name: decodeURIComponent(path.slice(3)),
      ...(after !== null ? { after } : {}),
      all: params.get("all") === "1",
    };
  }
  return { view: "repositories", query: params.get("q") ?? "" };
}

/** The location hash of a route (the inverse of {@link parseRoute}). */
export function routeHash(r: Route): string {
  if (r.view === "repositories") return r.query ? `#/?q=${encodeURIComponent(r.query)}` : "#/";
  const params: string[] = [];
  if (r.after !== undefined) params.push(`after=${encodeURIComponent(r.after)}`);
  if (r.all) params.push("all=1");
  return `#/r/${r.name}${params.length ? `?${params.join("&")}` : ""}`;
}
