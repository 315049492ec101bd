/**
 * cosign signatures made the way cosign's signature spec describes them, for
 * tests: a simple-signing payload, its signature, and the `.sig` manifest
 * holding them (config and layer as cosign writes them). Signing goes through
 * `openssl` (another implementation than the verifier's node:crypto) or, for
 * unit tests that need no tool, node:crypto.
 *
 * Debian's skopeo and podman cannot make these: their builds refuse both to
 * sign and to verify with sigstore keys ("Debian-local change: sigstore
 * disabled").
 */
import { spawnSync } from "node:child_process";
import { sign, type KeyObject } from "node:crypto";
import { sha256 } from "../../src/inventory/manifest";
import * as fs from "node:fs";
import * as path from "node:path";

export const SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json";
export const SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";

export { sha256 };

/** The payload cosign signs for `digest`, naming `reference` (as cosign marshals it: Go struct order). */
export function payload(
  digest: string,
  reference: string,
  type = "cosign container image signature",
): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { "docker-reference": reference },
        image: { "docker-manifest-digest": digest },
        type,
      },
      optional: null,
    }),
  );
}

export interface SignatureImage {
  manifest: Buffer;
  digest: string;
  /** Every blob the manifest names (config, payloads), by digest. */
  blobs: Map<string, Buffer>;
}

/** The `.sig` manifest for payloads and their base64 signatures, one layer each. */
export function signatureImage(layers: { payload: Buffer; signature: string }[]): SignatureImage {
  const blobs = new Map<string, Buffer>();
  const put = (b: Buffer) => {
    blobs.set(sha256(b), b);
    return { digest: sha256(b), size: b.length };
  };
  const config = put(
    Buffer.from(
      JSON.stringify({
        architecture: "",
        created: "0001-01-01T00:00:00Z",
        history: [{ created: "0001-01-01T00:00:00Z" }],
        os: "",
        rootfs: { type: "layers", diff_ids: layers.map((l) => sha256(l.payload)) },
        config: {},
      }),
    ),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, ...config },
      layers: layers.map((l) => ({
        mediaType: SIMPLE_SIGNING,
        ...put(l.payload),
        annotations: { [SIGNATURE_ANNOTATION]: l.signature },
      })),
    }),
  );
  return { manifest, digest: sha256(manifest), blobs };
}

/** A base64 signature of `data` with node:crypto (ECDSA/RSA over SHA-256, Ed25519 pure). */
export function nodeSign(key: KeyObject, data: Buffer): string {
  return sign(key.asymmetricKeyType === "ed25519" ? null : "sha256", data, key).toString("base64");
}

export type KeyKind = "ecdsa-p256" | "ed25519" | "rsa";

function openssl(args: string[], input?: Buffer): Buffer {
  const r = spawnSync("openssl", args, { input });
  if (r.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr?.toString() ?? r.error}`);
  return r.stdout;
}

/** An openssl key pair in `dir`: `<name>.key` (private) and `<name>.pub` (PEM public key, as cosign.pub). */
export function opensslKeyPair(dir: string, name: string, kind: KeyKind): { key: string; pub: string } {
  const key = path.join(dir, `${name}.key`);
  const pub = path.join(dir, `${name}.pub`);
  const algo = {
    "ecdsa-p256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    ed25519: ["-algorithm", "ED25519"],
    rsa: ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072"],
  }[kind];
  openssl(["genpkey", ...algo, "-out", key]);
  openssl(["pkey", "-in", key, "-pubout", "-out", pub]);
  return { key, pub };
}

/** A base64 signature of `data` made by openssl with the private key file `key`. */
export function opensslSign(key: string, kind: KeyKind, data: Buffer, scratch: string): string {
  const file = path.join(scratch, `payload-${sha256(data).slice(7, 19)}`);
  fs.writeFileSync(file, data);
  const sig =
    kind === "ed25519"
      ? openssl(["pkeyutl", "-sign", "-inkey", key, "-rawin", "-in", file])
      : openssl(["dgst", "-sha256", "-sign", key, file]);
  return sig.toString("base64");
}

/** Whether openssl verifies `signature` (base64) over `data` under the public key file `pub`. */
export function opensslVerifies(
  pub: string,
  kind: KeyKind,
  data: Buffer,
  signature: string,
  scratch: string,
): boolean {
  const file = path.join(scratch, `check-${sha256(data).slice(7, 19)}`);
  const sigFile = `${file}.sig`;
  fs.writeFileSync(file, data);
  fs.writeFileSync(sigFile, Buffer.from(signature, "base64"));
  const args =
    kind === "ed25519"
      ? ["pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-in", file, "-sigfile", sigFile]
      : ["dgst", "-sha256", "-verify", pub, "-signature", sigFile, file];
  return spawnSync("openssl", args).status === 0;
}

/** Any OCI image manifest of a config and layers (an attestation, an attached SBOM, an OCI 1.1 artifact). */
export function ociImage(o: {
  config: Buffer;
  configMediaType: string;
  layers: { mediaType: string; data: Buffer; annotations?: Record<string, string> }[];
  artifactType?: string;
  subject?: { mediaType: string; digest: string; size: number };
  annotations?: Record<string, string>;
}): SignatureImage {
  const blobs = new Map<string, Buffer>([[sha256(o.config), o.config]]);
  const doc: Record<string, unknown> = { schemaVersion: 2, mediaType: OCI_MANIFEST };
  if (o.artifactType) doc.artifactType = o.artifactType;
  doc.config = { mediaType: o.configMediaType, digest: sha256(o.config), size: o.config.length };
  doc.layers = o.layers.map((l) => {
    blobs.set(sha256(l.data), l.data);
    return {
      mediaType: l.mediaType,
      digest: sha256(l.data),
      size: l.data.length,
      ...(l.annotations ? { annotations: l.annotations } : {}),
    };
  });
  if (o.subject)
    doc.subject = { mediaType: o.subject.mediaType, digest: o.subject.digest, size: o.subject.size };
  if (o.annotations) doc.annotations = o.annotations;
  const manifest = Buffer.from(JSON.stringify(doc));
  return { manifest, digest: sha256(manifest), blobs };
}

/** The index the referrers tag schema keeps under `sha256-<hex>`: one descriptor per referrer, artifactType included. */
export function referrersIndex(
  referrers: { digest: string; size: number; artifactType: string; annotations?: Record<string, string> }[],
): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: referrers.map((r) => ({
        mediaType: OCI_MANIFEST,
        digest: r.digest,
        size: r.size,
        artifactType: r.artifactType,
        ...(r.annotations ? { annotations: r.annotations } : {}),
      })),
    }),
  );
}
