/**
 * The lines the provenance step prints (the `provenance` command, run by the
 * mirror script) and how the mirror's summary reads them back: one home for
 * the format on both sides.
 *
 *   provenance <kind> <tag> <copied|kept> <digest> <referrers> <fetched> <tag|api>
 *   verified <digest> <key name>
 *
 * (`referrers` and `fetched`: for a referrers index, how many referrers it
 * lists and how many of them were fetched this time; `api` when it was
 * found through the referrers API.)
 */
import type { CarryResult } from "./carry";
import { kindCount, PROVENANCE_KINDS, type ProvenanceKind } from "./tags";

/** The stdout lines of a carry. */
export function carryLines(digest: string, r: CarryResult): string[] {
  const lines = r.carried.map(
    (c) =>
      `provenance ${c.kind} ${c.tag} ${c.status} ${c.digest} ${c.referrers} ${c.fetched} ${c.viaApi ? "api" : "tag"}`,
  );
  if (r.verifiedBy) lines.push(`verified ${digest} ${r.verifiedBy.name}`);
  return lines;
}

/** Counts per kind: what was copied this time and what was already there. */
export interface ProvenanceCounts {
  copied: Record<ProvenanceKind, number>;
  kept: Record<ProvenanceKind, number>;
  /** The key names of `verified` lines. */
  verifiedBy: string[];
}

export function emptyCounts(): ProvenanceCounts {
  const zero = () => ({ signature: 0, attestation: 0, sbom: 0, referrers: 0 });
  return { copied: zero(), kept: zero(), verifiedBy: [] };
}

/**
 * Adds the lines of one image to `counts`. A referrers index counts as its
 * referrers: those fetched this time as copied, the others as up to date.
 */
export function addLines(counts: ProvenanceCounts, lines: readonly string[]): ProvenanceCounts {
  for (const l of lines) {
    const p =
      /^provenance (signature|attestation|sbom|referrers) \S+ (copied|kept) \S+ (\d+) (\d+) (?:tag|api)$/.exec(
        l,
      );
    if (p) {
      const kind = p[1] as ProvenanceKind;
      if (kind !== "referrers") counts[p[2] as "copied" | "kept"][kind] += 1;
      else {
        const fetched = p[2] === "copied" ? Number(p[4]) : 0;
        counts.copied.referrers += fetched;
        counts.kept.referrers += Number(p[3]) - fetched;
      }
      continue;
    }
    const v = /^verified \S+ (.+)$/.exec(l);
    if (v) counts.verifiedBy.push(v[1]);
  }
  return counts;
}

/** `2 signatures, 0 attestations, 1 SBOM, 0 referrers`; with `onlySome`, the kinds with none left out. */
export function countsText(byKind: Record<ProvenanceKind, number>, onlySome = false): string {
  return PROVENANCE_KINDS.filter((k) => !onlySome || byKind[k] > 0)
    .map((k) => kindCount(k, byKind[k]))
    .join(", ");
}
