/**
 * The public keys signatures are checked against: PEM text as cosign writes
 * it (`cosign.pub`, a SubjectPublicKeyInfo `PUBLIC KEY` block), of the kinds
 * cosign signs with and node:crypto verifies — ECDSA on P-256, P-384 and
 * P-521, Ed25519, RSA of at least 2048 bits (PKCS #1 v1.5). Every bad key is
 * reported with what it is and what would do instead; nothing half-parses.
 *
 * Which hash a signature was made with is not recorded anywhere (the cosign
 * signature spec leaves it to the key): ECDSA is checked with SHA-256, as
 * cosign signs by default, and with the hash matching the curve
 * (SHA-384 / SHA-512), which newer cosign uses for P-384 / P-521; RSA with
 * SHA-256; Ed25519 signs the payload itself.
 */
import { createPublicKey, verify, type KeyObject } from "node:crypto";

export interface VerifyKey {
  /** Where the key came from (a file name, `verifyKeys[0]`), for messages. */
  name: string;
  /** `ecdsa-p256`, `ed25519`, `rsa-3072`, ... */
  type: string;
  key: KeyObject;
  /** Digest algorithms tried, in order; null for Ed25519 (no separate hash). */
  hashes: (string | null)[];
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

const CURVES: Record<string, { type: string; hashes: string[] }> = {
  prime256v1: { type: "ecdsa-p256", hashes: ["sha256"] },
  secp384r1: { type: "ecdsa-p384", hashes: ["sha256", "sha384"] },
  secp521r1: { type: "ecdsa-p521", hashes: ["sha256", "sha512"] },
};

/** Parses one PEM public key; throws an Error whose message says what is wrong (without the name). */
function parseOne(text: string): Omit<VerifyKey, "name"> {
  const blocks = [...text.matchAll(PEM_BLOCK)];
  if (blocks.length === 0) throw new Error("holds no PEM block (-----BEGIN PUBLIC KEY-----)");
  if (blocks.length > 1)
    throw new Error(`holds ${blocks.length} PEM blocks; give one public key per key (cosign.pub)`);
  const label = blocks[0][1];
  if (label.includes("PRIVATE KEY"))
    throw new Error(`is a private key (${label}); give its public key (cosign public-key --key …)`);
  if (label === "CERTIFICATE")
    throw new Error("is a certificate; only keyed signatures are verified: give the public key");
  if (label !== "PUBLIC KEY" && label !== "RSA PUBLIC KEY")
    throw new Error(`is a ${label} block, not a PUBLIC KEY`);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: blocks[0][0], format: "pem" });
  } catch (e) {
    throw new Error(`is not a readable public key: ${(e as Error).message}`);
  }
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case "ec": {
      const curve = CURVES[details.namedCurve ?? ""];
      if (!curve)
        throw new Error(
          `is an ECDSA key on ${details.namedCurve ?? "an unnamed curve"}; cosign signs with P-256, P-384 or P-521`,
        );
      return { type: curve.type, key, hashes: curve.hashes };
    }
    case "ed25519":
      return { type: "ed25519", key, hashes: [null] };
    case "rsa": {
      const bits = details.modulusLength ?? 0;
      if (bits < 2048) throw new Error(`is an RSA key of ${bits} bits; at least 2048 are needed`);
      return { type: `rsa-${bits}`, key, hashes: ["sha256"] };
    }
    default:
      throw new Error(
        `is a ${key.asymmetricKeyType ?? "unknown"} key; keys of type ECDSA (P-256, P-384, P-521), Ed25519 or RSA are verified`,
      );
  }
}

/** Parses one key named `name`; throws with `name` in the message. */
export function parsePublicKey(name: string, text: string): VerifyKey {
  try {
    return { name, ...parseOne(text) };
  } catch (e) {
    throw new Error(`key ${name} ${(e as Error).message}`);
  }
}

/** Parses every key, reporting every bad one at once. */
export function parsePublicKeys(keys: readonly { name: string; text: string }[]): {
  keys: VerifyKey[];
  problems: string[];
} {
  const out: VerifyKey[] = [];
  const problems: string[] = [];
  for (const k of keys) {
    try {
      out.push(parsePublicKey(k.name, k.text));
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  return { keys: out, problems };
}

/** Whether `signature` over `data` was made by `key` (any of the hashes it may have used). */
export function verifiesUnder(key: VerifyKey, data: Buffer, signature: Buffer): boolean {
  for (const hash of key.hashes) {
    try {
      if (verify(hash, data, key.key, signature)) return true;
    } catch {
      // A signature of the wrong shape for this key (an RSA signature under an EC key) does not verify.
    }
  }
  return false;
}
