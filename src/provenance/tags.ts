/**
 * The tags under which a registry without a referrers API keeps what refers
 * to an image, in the image's own repository. The one home of these names.
 *
 * - cosign's tag scheme: `sha256-<hex>.sig` (simple-signing signatures),
 *   `.att` (DSSE attestations), `.sbom` (an attached SBOM), where `<hex>` is
 *   the hex of the image's (or platform manifest's) digest;
 * - the OCI 1.1 referrers tag schema: `sha256-<hex>`, an index whose
 *   `manifests` are the descriptors of the manifests whose `subject` is
 *   `sha256:<hex>`.
 */

export type ProvenanceKind = "signature" | "attestation" | "sbom" | "referrers";

/** The kinds in the order they are fetched, verified and reported. */
export const PROVENANCE_KINDS: readonly ProvenanceKind[] = ["signature", "attestation", "sbom", "referrers"];

const SUFFIX: Record<ProvenanceKind, string> = {
  signature: ".sig",
  attestation: ".att",
  sbom: ".sbom",
  referrers: "",
};

const DIGEST = /^sha256:([a-f0-9]{64})$/;
const TAG = /^sha256-([a-f0-9]{64})(\.sig|\.att|\.sbom)?$/;

/** The tag that holds `kind` for `digest` (`sha256:<hex>`). */
export function provenanceTag(kind: ProvenanceKind, digest: string): string {
  const m = DIGEST.exec(digest);
  if (!m) throw new Error(`not a sha256 digest: ${JSON.stringify(digest)}`);
  return `sha256-${m[1]}${SUFFIX[kind]}`;
}

/** What a tag holds and for which digest, or undefined for any other tag. */
export function parseProvenanceTag(tag: string): { kind: ProvenanceKind; subject: string } | undefined {
  const m = TAG.exec(tag);
  if (!m) return undefined;
  const kind = (Object.keys(SUFFIX) as ProvenanceKind[]).find((k) => SUFFIX[k] === (m[2] ?? ""))!;
  return { kind, subject: `sha256:${m[1]}` };
}

/** The counts of a summary, singular or plural ("1 signature", "2 SBOMs"). */
export function kindCount(kind: ProvenanceKind, n: number): string {
  const word = {
    signature: ["signature", "signatures"],
    attestation: ["attestation", "attestations"],
    sbom: ["SBOM", "SBOMs"],
    referrers: ["referrer", "referrers"],
  }[kind];
  return `${n} ${word[n === 1 ? 0 : 1]}`;
}

/** The digest a tag refers to, for `pruneTree`: what refers to a kept image stays with it. */
export function subjectOfTag(tag: string): string | undefined {
  return parseProvenanceTag(tag)?.subject;
}
