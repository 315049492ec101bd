/** Public keys for --verify-key / verifyKeys: each kind cosign signs with accepted, every other thing named. */
import assert from "node:assert/strict";
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { test } from "node:test";
import { parsePublicKey, parsePublicKeys, verifiesUnder } from "../../src/provenance/keys";

const pem = (k: KeyObject) => String(k.export({ type: "spki", format: "pem" }));
const pair = (type: string, options: object = {}): { publicKey: KeyObject; privateKey: KeyObject } =>
  generateKeyPairSync(type as "ec", options as { namedCurve: string });

test("the key types cosign signs with are accepted, and verify what their private key signed", () => {
  const cases = [
    { name: "P-256", make: () => pair("ec", { namedCurve: "P-256" }), type: "ecdsa-p256", hash: "sha256" },
    {
      name: "P-384, SHA-256",
      make: () => pair("ec", { namedCurve: "P-384" }),
      type: "ecdsa-p384",
      hash: "sha256",
    },
    {
      name: "P-384, SHA-384",
      make: () => pair("ec", { namedCurve: "P-384" }),
      type: "ecdsa-p384",
      hash: "sha384",
    },
    {
      name: "P-521, SHA-512",
      make: () => pair("ec", { namedCurve: "P-521" }),
      type: "ecdsa-p521",
      hash: "sha512",
    },
    { name: "Ed25519", make: () => pair("ed25519"), type: "ed25519", hash: null },
    { name: "RSA 2048", make: () => pair("rsa", { modulusLength: 2048 }), type: "rsa-2048", hash: "sha256" },
  ];
  const data = Buffer.from('{"critical":{}}');
  for (const c of cases) {
    const own = c.make();
    const key = parsePublicKey(`${c.name}.pub`, pem(own.publicKey));
    assert.equal(key.type, c.type, c.name);
    assert.equal(key.name, `${c.name}.pub`);
    const sig = sign(c.hash, data, own.privateKey);
    assert.ok(verifiesUnder(key, data, sig), `${c.name}: its own signature verifies`);
    assert.ok(
      !verifiesUnder(key, Buffer.from('{"critical":{"x":1}}'), sig),
      `${c.name}: not over other bytes`,
    );
    const other = parsePublicKey("other.pub", pem(c.make().publicKey));
    assert.ok(!verifiesUnder(other, data, sig), `${c.name}: not under another key of its kind`);
  }
});

test("an RSA PUBLIC KEY (PKCS #1) block is read too", () => {
  const { publicKey } = pair("rsa", { modulusLength: 2048 });
  const pkcs1 = String(publicKey.export({ type: "pkcs1", format: "pem" }));
  assert.match(pkcs1, /BEGIN RSA PUBLIC KEY/);
  assert.equal(parsePublicKey("k", pkcs1).type, "rsa-2048");
});

test("every key that cannot verify cosign signatures is refused, naming the key and what it is", () => {
  const ec = pair("ec", { namedCurve: "P-256" });
  const cases: { name: string; text: string; message: RegExp }[] = [
    { name: "empty", text: "", message: /key empty holds no PEM block/ },
    { name: "not PEM", text: "ssh-ed25519 AAAAC3Nza", message: /holds no PEM block/ },
    {
      name: "private key",
      text: String(ec.privateKey.export({ type: "pkcs8", format: "pem" })),
      message: /is a private key \(PRIVATE KEY\); give its public key/,
    },
    {
      name: "cosign private key",
      text: "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\neyJrZGYiOnt9fQ==\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n",
      message: /is a private key \(ENCRYPTED SIGSTORE PRIVATE KEY\)/,
    },
    {
      name: "certificate",
      text: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
      message: /is a certificate; only keyed signatures are verified/,
    },
    {
      name: "two keys",
      text: pem(ec.publicKey) + pem(pair("ed25519").publicKey),
      message: /holds 2 PEM blocks; give one public key per key/,
    },
    {
      name: "secp256k1",
      text: pem(pair("ec", { namedCurve: "secp256k1" }).publicKey),
      message: /is an ECDSA key on secp256k1; cosign signs with P-256, P-384 or P-521/,
    },
    {
      name: "short RSA",
      text: pem(pair("rsa", { modulusLength: 1024 }).publicKey),
      message: /is an RSA key of 1024 bits; at least 2048 are needed/,
    },
    { name: "Ed448", text: pem(pair("ed448").publicKey), message: /is a ed448 key; keys of type ECDSA/ },
    { name: "X25519", text: pem(pair("x25519").publicKey), message: /is a x25519 key/ },
    {
      name: "garbage body",
      text: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
      message: /is not a readable public key/,
    },
    {
      name: "other block",
      text: "-----BEGIN PGP PUBLIC KEY BLOCK-----\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n",
      message: /is a PGP PUBLIC KEY BLOCK block, not a PUBLIC KEY/,
    },
  ];
  for (const c of cases)
    assert.throws(
      () => parsePublicKey(c.name, c.text),
      (e: Error) => c.message.test(e.message) && e.message.startsWith(`key ${c.name} `),
      c.name,
    );
  const all = parsePublicKeys(
    cases.map((c) => ({ name: c.name, text: c.text })).concat([{ name: "good", text: pem(ec.publicKey) }]),
  );
  assert.equal(all.problems.length, cases.length, "every bad key reported at once");
  assert.deepEqual(
    all.keys.map((k) => k.name),
    ["good"],
  );
});

test("a signature of the wrong shape for the key does not verify (and does not throw)", () => {
  const ec = pair("ec", { namedCurve: "P-256" });
  const key = parsePublicKey("k", pem(ec.publicKey));
  for (const sig of [Buffer.alloc(0), Buffer.alloc(64, 1), Buffer.alloc(512, 2)])
    assert.equal(verifiesUnder(key, Buffer.from("x"), sig), false);
});
