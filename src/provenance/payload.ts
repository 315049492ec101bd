/**
 * What a signed simple-signing payload must say for the signature to count
 * for an image (cosign's signature spec, containers-signature(5)): its
 * `critical.type` is cosign's, `critical.image.docker-manifest-digest` is the
 * image's digest, and `critical.identity.docker-reference` names the image's
 * repository. Pure: payload bytes and what is expected in, a verdict out.
 *
 * The identity: cosign itself ignores `docker-reference`, but the runtimes'
 * `sigstoreSigned` policy (containers/image) checks it, and a signature for
 * another repository must not let an image through. It is compared with the
 * image's original name — the one the mirror was given, and the one the tree
 * keeps as `<host>/<path>` — normalised by Docker's rules (`index.docker.io`
 * is `docker.io`, one-word Hub names get `library/`); a tag or digest in it
 * is not compared (the digest is, above). Serving the tree under a
 * `--name-prefix` does not change what is compared: the nodes pull by the
 * original names.
 */
import { parseReference, ReferenceError } from "../mirror/reference";

export const SIMPLE_SIGNING_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json";
export const SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature";
export const COSIGN_SIGNATURE_TYPE = "cosign container image signature";

/** The repository a signature must name: `host` + `path`, or only `path` for a tree without host directories. */
export interface Identity {
  host?: string;
  path: string;
}

export function identityText(id: Identity): string {
  return id.host !== undefined ? `${id.host}/${id.path}` : id.path;
}

export type PayloadVerdict =
  | { ok: true }
  | { ok: false; reason: "bad-payload" | "wrong-type" | "wrong-digest" | "wrong-identity"; message: string };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Checks a payload (already known to be signed by a trusted key) against the image it should be for. */
export function checkPayload(bytes: Buffer, digest: string, identity: Identity): PayloadVerdict {
  const bad = (message: string): PayloadVerdict => ({ ok: false, reason: "bad-payload", message });
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString("utf8"));
  } catch {
    return bad("the signed payload is not JSON");
  }
  if (!isObject(doc) || !isObject(doc.critical)) return bad("the signed payload has no critical section");
  const { type, image, identity: id } = doc.critical;
  if (type !== COSIGN_SIGNATURE_TYPE)
    return {
      ok: false,
      reason: "wrong-type",
      message: `the signed payload's critical.type is ${JSON.stringify(type)}, not "${COSIGN_SIGNATURE_TYPE}"`,
    };
  const signedDigest = isObject(image) ? image["docker-manifest-digest"] : undefined;
  if (typeof signedDigest !== "string")
    return bad("the signed payload has no critical.image.docker-manifest-digest");
  if (signedDigest !== digest)
    return {
      ok: false,
      reason: "wrong-digest",
      message: `the signature is for ${signedDigest}, not for this image's ${digest}`,
    };
  const ref = isObject(id) ? id["docker-reference"] : undefined;
  if (typeof ref !== "string") return bad("the signed payload has no critical.identity.docker-reference");
  let signed: { host: string; path: string };
  try {
    signed = parseReference(ref);
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw e;
    return {
      ok: false,
      reason: "wrong-identity",
      message: `the signature names ${JSON.stringify(ref)}, which is not an image reference`,
    };
  }
  const same =
    identity.host !== undefined
      ? signed.host === identity.host && signed.path === identity.path
      : signed.path === identity.path;
  if (!same)
    return {
      ok: false,
      reason: "wrong-identity",
      message: `the signature is for the repository ${signed.host}/${signed.path}, not ${identityText(identity)}`,
    };
  return { ok: true };
}
