/**
 * The copy plan: given the digests an image consists of (the image, and the
 * platform manifests of an index) and, when there is one, the tags its
 * upstream repository lists, which tags that refer to them to fetch. Pure.
 *
 * With a listing, only the tags it names are planned. Without one, every tag
 * that could exist is planned as a probe: fetching it tells whether it is
 * there. (The mirror probes: skopeo 1.9's `list-tags` ignores the
 * registries.conf locations and mirrors that `inspect` and `copy` honour, so
 * its listing may come from another registry than the copies.)
 *
 * The referrers of a digest-only reference cannot be carried under the
 * referrers tag schema: the image itself is stored under that very tag
 * (`sha256-<hex>`, see src/mirror/plan.ts). Such an item is planned with the
 * conflict named, so the mirror can say what was left out when it exists.
 */
import { PROVENANCE_KINDS, provenanceTag, type ProvenanceKind } from "./tags";

export interface ProvenanceItem {
  kind: ProvenanceKind;
  /** The tag in the image's repository. */
  tag: string;
  /** The digest it refers to. */
  subject: string;
  /** True when no listing said the tag exists (it may be missing upstream). */
  probe: boolean;
  /** Why the tag cannot be carried, when it cannot. */
  conflict?: string;
}

/**
 * The tags to fetch for `subjects` (in their order, kinds in PROVENANCE_KINDS
 * order), except those in `done`. `listing` is the upstream repository's
 * tags, or undefined to probe. `ownTag` is the tag the image itself is
 * stored under, which is never written over.
 */
export function planProvenance(
  subjects: readonly string[],
  listing: ReadonlySet<string> | undefined,
  ownTag?: string,
  done: ReadonlySet<string> = new Set(),
): ProvenanceItem[] {
  const items: ProvenanceItem[] = [];
  const seen = new Set(done);
  for (const subject of subjects) {
    for (const kind of PROVENANCE_KINDS) {
      const tag = provenanceTag(kind, subject);
      if (seen.has(tag)) continue;
      seen.add(tag);
      if (listing !== undefined && !listing.has(tag)) continue;
      const item: ProvenanceItem = { kind, tag, subject, probe: listing === undefined };
      if (tag === ownTag)
        item.conflict = `the image itself is stored under ${tag} (a digest-only reference), the tag of its referrers index`;
      items.push(item);
    }
  }
  return items;
}
