/**
 * Everything the page shows about one tag, read from the registry: the
 * manifest (digest, media type, kind), an index's platforms with each
 * platform manifest's digest and size, the total size, created time and
 * labels from the config blob, and what refers to it (cosign's tags and the
 * referrers API).
 */
import * as api from "./api";
import {
  countProvenance,
  formatCreated,
  manifestKind,
  platformString,
  platformsOf,
  totalSize,
  type Descriptor,
  type ManifestKind,
  type ProvenanceCounts,
} from "./logic";

export interface PlatformInfo {
  platform: string;
  digest: string;
  /** The platform's manifest, config and layers. */
  size: number;
}

export interface TagInfo {
  tag: string;
  digest: string;
  mediaType: string;
  /** The manifest's own bytes. */
  manifestSize: number;
  kind: ManifestKind;
  /** The artifact type or config media type of an artifact; the layer type of a signature. */
  type?: string;
  /** For an index, one per platform; for an image, its own. */
  platforms: PlatformInfo[];
  /** Everything a pull of every platform fetches, each blob once. */
  totalSize: number;
  created: string;
  labels: Record<string, string>;
  /** The digest this manifest refers to (an OCI `subject`). */
  subject?: string;
  counts: ProvenanceCounts;
  /** cosign's tags and the referrers, for the details. */
  referredBy: { what: string; kind: string }[];
}

/** Reads and puts together what the page shows for `tag` of repository `name`. */
export async function describeTag(name: string, tag: string): Promise<TagInfo> {
  const m = await api.manifest(name, tag);
  const { kind, type } = manifestKind(m.mediaType, m.doc);
  let platforms: PlatformInfo[] = [];
  let total = totalSize([m]);
  let created = "";
  let labels: Record<string, string> = {};
  let indexAttestations = 0;

  const readConfig = async (d: Descriptor | undefined) => {
    const c = d ? await api.config(name, d.digest) : {};
    return { created: formatCreated(c.created), labels: c.config?.Labels ?? {}, platform: platformString(c) };
  };
  if (kind === "index") {
    const p = platformsOf(m.doc);
    indexAttestations = p.attestations;
    const children = await Promise.all(p.platforms.map((e) => api.manifest(name, e.digest)));
    platforms = p.platforms.map((e, i) => ({
      platform: e.platform,
      digest: e.digest,
      size: totalSize([children[i]]),
    }));
    total = totalSize([m, ...children]);
    const first = children.find((c) => manifestKind(c.mediaType, c.doc).kind === "image");
    if (first) ({ created, labels } = await readConfig(first.doc.config));
  } else if (kind === "image") {
    const c = await readConfig(m.doc.config);
    ({ created, labels } = c);
    platforms = [{ platform: c.platform, digest: m.digest, size: total }];
  } else {
    created = formatCreated(m.doc.annotations?.["org.opencontainers.image.created"]);
  }

  const [cosign, referrers] = await Promise.all([api.cosignTags(name), api.referrers(name, m.digest)]);
  const mine = cosign.get(m.digest) ?? [];
  const cosignLayers = await Promise.all(
    mine.map(async (t) => ({
      kind: t.kind,
      layers: (await api.manifest(name, t.tag)).doc.layers?.length ?? 0,
    })),
  );
  return {
    tag,
    digest: m.digest,
    mediaType: m.mediaType,
    manifestSize: m.size,
    kind,
    ...(type !== undefined ? { type } : {}),
    platforms,
    totalSize: total,
    created,
    labels,
    ...(m.doc.subject ? { subject: m.doc.subject.digest } : {}),
    counts: countProvenance(cosignLayers, referrers, indexAttestations),
    referredBy: [
      ...mine.map((t) => ({ what: `tag ${t.tag}`, kind: t.kind })),
      ...referrers.map((r) => ({ what: r.digest, kind: r.artifactType ?? r.mediaType ?? "" })),
    ],
  };
}
