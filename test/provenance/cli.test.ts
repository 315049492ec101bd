/** --verify-key on the command line: every bad key named before anything is copied or checked. */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, test } from "node:test";
import { runAny, tmpDir } from "../support/tools";

const BIN = path.resolve(__dirname, "../../../bin/static-container-registry.js");
const cli = (...args: string[]) => runAny(process.execPath, [BIN, ...args]);
const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function keys() {
  const dir = tmpDir("cli-keys");
  dirs.push(dir);
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const files = {
    good: path.join(dir, "good.pub"),
    priv: path.join(dir, "cosign.key"),
    missing: path.join(dir, "missing.pub"),
  };
  fs.writeFileSync(files.good, ec.publicKey.export({ type: "spki", format: "pem" }));
  fs.writeFileSync(files.priv, ec.privateKey.export({ type: "pkcs8", format: "pem" }));
  return { dir, files };
}

test("mirror --verify-key: each bad key is one line, exit 2, nothing copied (no registry is asked)", () => {
  const { dir, files } = keys();
  const root = path.join(dir, "images");
  const r = cli(
    "mirror",
    "--to",
    root,
    "--verify-key",
    files.good,
    "--verify-key",
    files.priv,
    "--verify-key",
    files.missing,
    "upstream.invalid/app:1",
  );
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.deepEqual(r.stderr.trim().split("\n"), [
    `static-container-registry: --verify-key ${files.missing}: no such file`,
    `--verify-key: key ${files.priv} is a private key (PRIVATE KEY); give its public key (cosign public-key --key …)`,
  ]);
  assert.ok(!fs.existsSync(root));
});

test("check --verify-key with a bad key: exit 2 naming it; the hidden provenance command stays out of --help", () => {
  const { dir, files } = keys();
  const r = cli("check", dir, "--verify-key", files.priv);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--verify-key: key .*cosign\.key is a private key/);
  assert.doesNotMatch(cli("--help").stdout, /provenance/);
});
