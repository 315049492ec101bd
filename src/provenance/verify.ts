/**
 * Keyed, offline verification of an image's cosign signatures: the manifest
 * under `sha256-<hex>.sig` holds one layer per signature, each a
 * simple-signing payload blob with its base64 signature in the layer
 * annotation `dev.cosignproject.cosign/signature`. The image passes when one
 * layer's signature verifies over the payload bytes under one of the keys and
 * that payload names the image (payload.ts). No transparency-log entry or
 * certificate is needed or looked at; a keyless (certificate) signature does
 * not verify under a public key and so does not count.
 *
 * Pure apart from reading blobs through the given function, so the mirror
 * (staged copies), `check --verify-key` (the tree) and tests share it.
 *
 * When nothing passes, the reason is the most telling one found: a payload
 * problem in a signature a trusted key did make beats "made by another key",
 * which beats a malformed layer; no `.sig` at all is "unsigned".
 */
import { sha256 } from "../inventory/manifest";
import { checkPayload, SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE, type Identity } from "./payload";
import { verifiesUnder, type VerifyKey } from "./keys";

export type Reason =
  "unsigned" | "malformed" | "wrong-key" | "bad-payload" | "wrong-type" | "wrong-digest" | "wrong-identity";

export type Verdict = { ok: true; key: VerifyKey } | { ok: false; reason: Reason; message: string };

/** How telling a reason is when several layers fail (higher wins). */
const RANK: Record<Reason, number> = {
  unsigned: 0,
  malformed: 1,
  "wrong-key": 2,
  "bad-payload": 3,
  "wrong-type": 3,
  "wrong-identity": 4,
  "wrong-digest": 5,
};

export interface SignatureSource {
  /** The tag the signatures were read from (for messages). */
  tag: string;
  /** The signature manifest's bytes; undefined when there is none. */
  manifest?: Buffer;
  /** A blob of that manifest by digest; undefined when it is not there. */
  blob: (digest: string) => Buffer | undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Verifies that `digest` (an image of repository `identity`) is signed by one of `keys`. */
export function verifySignatures(
  sig: SignatureSource,
  digest: string,
  identity: Identity,
  keys: readonly VerifyKey[],
): Verdict {
  if (sig.manifest === undefined)
    return { ok: false, reason: "unsigned", message: `no signature (no tag ${sig.tag})` };
  let doc: unknown;
  try {
    doc = JSON.parse(sig.manifest.toString("utf8"));
  } catch {
    doc = undefined;
  }
  const layers = isObject(doc) && Array.isArray(doc.layers) ? (doc.layers as unknown[]) : undefined;
  if (!layers)
    return { ok: false, reason: "malformed", message: `${sig.tag} is not an image manifest with layers` };

  let best: Extract<Verdict, { ok: false }> = {
    ok: false,
    reason: "unsigned",
    message: `${sig.tag} holds no simple-signing signature`,
  };
  const worse = (v: Extract<Verdict, { ok: false }>) => {
    if (RANK[v.reason] > RANK[best.reason]) best = v;
  };
  let signatures = 0;
  for (const [i, layer] of layers.entries()) {
    if (!isObject(layer) || layer.mediaType !== SIMPLE_SIGNING_MEDIA_TYPE) continue;
    const where = `${sig.tag} layer ${i}`;
    const annotation = isObject(layer.annotations) ? layer.annotations[SIGNATURE_ANNOTATION] : undefined;
    if (typeof annotation !== "string" || !BASE64.test(annotation)) {
      worse({ ok: false, reason: "malformed", message: `${where} has no base64 ${SIGNATURE_ANNOTATION}` });
      continue;
    }
    const payload = typeof layer.digest === "string" ? sig.blob(layer.digest) : undefined;
    if (!payload) {
      worse({ ok: false, reason: "malformed", message: `${where}: the signed payload blob is missing` });
      continue;
    }
    if (sha256(payload) !== layer.digest) {
      worse({ ok: false, reason: "malformed", message: `${where}: the payload does not hash to its digest` });
      continue;
    }
    signatures++;
    const signature = Buffer.from(annotation, "base64");
    const key = keys.find((k) => verifiesUnder(k, payload, signature));
    if (!key) continue;
    const p = checkPayload(payload, digest, identity);
    if (p.ok) return { ok: true, key };
    worse({ ok: false, reason: p.reason, message: `${p.message} (signed by ${key.name})` });
  }
  if (signatures > 0) worse({ ok: false, reason: "wrong-key", message: notByKeys(signatures, keys) });
  return best;
}

/** "the signature was made by another key than a.pub", and so on for several. */
function notByKeys(signatures: number, keys: readonly VerifyKey[]): string {
  const names = keys.map((k) => k.name).join(", ");
  const by =
    keys.length === 1 ? `another key than ${names}` : `none of the ${keys.length} given keys (${names})`;
  if (signatures === 1) return `the signature was made by ${by}`;
  return keys.length === 1
    ? `none of the ${signatures} signatures was made by ${names}`
    : `none of the ${signatures} signatures was made by any of the ${keys.length} given keys (${names})`;
}
