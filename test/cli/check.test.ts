/**
 * `check` on trees that used to fool it: a FIFO that made it hang, blobs the
 * user cannot read (served later as 403), `--verify` aborting on them, and
 * warnings that must show without failing the check.
 *
 * Readability is a property of the user running `check`; these tests run it
 * as an unprivileged user (setpriv as root), since root reads everything.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import { blob, configBlob, hex, imageManifest, writeTagDir } from "../inventory/tree";
import { asOtherUser, requireTool, tmpDir } from "../support/tools";

const BIN = path.resolve(__dirname, "../../../bin/static-container-registry.js");
const NOBODY = 65534;

/** Runs the CLI; as root, as uid/gid 65534 so that file modes matter. Killed after `timeoutMs`. */
function cliAsUser(args: string[], timeoutMs = 20000) {
  const argv = [process.execPath, BIN, ...args];
  const full = process.getuid?.() === 0 ? asOtherUser(NOBODY, argv) : argv;
  return spawnSync(full[0], full.slice(1), { encoding: "utf8", timeout: timeoutMs, killSignal: "SIGKILL" });
}

/** A tree others may traverse (mkdtemp makes 0700 dirs), with one image. */
function openTree() {
  const root = path.join(tmpDir("check"), "images");
  fs.mkdirSync(root);
  fs.chmodSync(path.dirname(root), 0o755);
  const cfg = configBlob();
  const l = blob("readable layer");
  writeTagDir(root, "app", "1", imageManifest(cfg, [l]), [cfg, l]);
  return { root, cfg };
}

/** Makes everything under root readable to all, then `locked` unreadable. */
function lock(root: string, locked: string[]) {
  execFileSync("chmod", ["-R", "a+rX", root]);
  for (const f of locked) fs.chmodSync(f, 0o000);
}

describe("check on hostile trees", () => {
  test("a FIFO as manifest.json is a problem naming it, not a hang", () => {
    const { root } = openTree();
    const dir = path.join(root, "fifo", "1");
    fs.mkdirSync(dir, { recursive: true });
    execFileSync("mkfifo", [path.join(dir, "manifest.json")]);
    const r = cliAsUser(["check", root], 20000);
    assert.equal(r.signal, null, "check hung on the FIFO and was killed");
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /fifo\/1\/manifest\.json: is a FIFO, not a regular file/);
  });

  test("a blob the user cannot read is a problem of check and of generate", (t) => {
    if (process.getuid?.() === 0 && !requireTool(t, "setpriv")) return;
    const { root, cfg } = openTree();
    const l = blob("secret layer");
    const dir = writeTagDir(root, "locked", "1", imageManifest(cfg, [l]), [cfg, l]);
    const file = path.join(dir, hex(l.bytes));
    lock(root, [file]);
    const r = cliAsUser(["check", root]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`locked/1/${hex(l.bytes)}: cannot be read by uid \\d+ \\(permission denied\\)`),
    );
    const g = cliAsUser(["generate", root]);
    assert.equal(g.status, 1);
    assert.equal(g.stdout, "");
    assert.match(g.stderr, /cannot be read by uid/);
  });

  test("check --verify lists unreadable blobs with the other problems instead of aborting", (t) => {
    if (process.getuid?.() === 0 && !requireTool(t, "setpriv")) return;
    const { root, cfg } = openTree();
    const l = blob("secret layer");
    const locked = writeTagDir(root, "locked", "1", imageManifest(cfg, [l]), [cfg, l]);
    const wrong = blob("honest layer");
    const changed = writeTagDir(root, "changed", "1", imageManifest(cfg, [wrong]), [cfg, wrong]);
    fs.writeFileSync(path.join(changed, hex(wrong.bytes)), "HONEST LAYER"); // same size, other bytes
    lock(root, [path.join(locked, hex(l.bytes))]);
    const r = cliAsUser(["check", "--verify", root]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.doesNotMatch(r.stderr, /EACCES/);
    assert.match(r.stdout, /repositories\s+\d+\n/, "the summary is printed");
    assert.match(r.stdout, /2 problems:/);
    assert.match(r.stdout, new RegExp(`locked/1/${hex(l.bytes)}: cannot be read`));
    assert.match(r.stdout, new RegExp(`changed/1/${hex(wrong.bytes)}: content hashes to`));
  });

  test("warnings are shown (text and --json) without failing the check", () => {
    const root = path.join(tmpDir("check"), "empty");
    fs.mkdirSync(root);
    fs.chmodSync(path.dirname(root), 0o755);
    const r = cliAsUser(["check", root]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /1 warning:\n {2}\.: no images found/);
    assert.match(r.stdout, /no problems/);
    const j = cliAsUser(["check", "--json", root]);
    assert.equal(j.status, 0);
    const out = JSON.parse(j.stdout);
    assert.deepEqual(out.problems, []);
    assert.equal(out.warnings.length, 1);
    assert.equal(out.warnings[0].file, ".");
  });
});
