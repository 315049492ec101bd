/**
 * What refers to an image — cosign's signatures, attestations and SBOMs, OCI
 * referrers — carried across the gap with it, and keyed verification of its
 * signature: the names (tags.ts), the copy plan (plan.ts), keys, payload and
 * signature checks, discovery through the referrers API (referrersApi.ts),
 * the mirror's step (carry.ts) and the far-side check of a tree (tree.ts).
 */
export {
  PROVENANCE_KINDS,
  kindCount,
  parseProvenanceTag,
  provenanceTag,
  subjectOfTag,
  type ProvenanceKind,
} from "./tags";
export { planProvenance, type ProvenanceItem } from "./plan";
export { parsePublicKey, parsePublicKeys, verifiesUnder, type VerifyKey } from "./keys";
export {
  COSIGN_SIGNATURE_TYPE,
  SIGNATURE_ANNOTATION,
  SIMPLE_SIGNING_MEDIA_TYPE,
  checkPayload,
  type Identity,
} from "./payload";
export { verifySignatures, type Reason, type SignatureSource, type Verdict } from "./verify";
export { repositoryIdentity, verifyTree, type TreeVerification } from "./tree";
export { VERIFY_KEYS_ENV, provenanceArgv, verifyKeysEnv } from "./command";
export {
  ReferrersApi,
  parseReferrersPage,
  referrersIndexBytes,
  type ReferrerDescriptor,
  type ReferrersLookup,
} from "./referrersApi";
