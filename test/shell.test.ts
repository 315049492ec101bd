import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { shAtomicWrite, shCommand, shQuote, SCRIPT_PRELUDE } from "../src/shell";

/** Runs `script` under sh and returns its argv as printed one per line by printf. */
function sh(script: string): { stdout: string; status: number | null } {
  const r = spawnSync("sh", ["-c", script], { encoding: "utf8" });
  return { stdout: r.stdout, status: r.status };
}

const AWKWARD = ["plain", "with space", "it's", "$HOME", "`id`", "a\nb", "", "*", "--flag=x y", "\\", '"q"'];

describe("shell quoting", () => {
  for (const word of AWKWARD) {
    it(`shQuote round-trips ${JSON.stringify(word)} through sh`, () => {
      const r = sh(`printf '%s' ${shQuote(word)}`);
      assert.equal(r.stdout, word);
    });
  }

  it("shCommand gives sh back the same argv", () => {
    const r = sh(`printf '<%s>' ${shCommand(AWKWARD.slice(1))}`);
    assert.equal(
      r.stdout,
      AWKWARD.slice(1)
        .map((w) => `<${w}>`)
        .join(""),
    );
  });

  it("shCommand leaves plain words unquoted so printed commands stay readable", () => {
    assert.equal(
      shCommand(["skopeo", "copy", "--all", "docker://docker.io/library/alpine:3.19", "dir:/x/y"]),
      "skopeo copy --all docker://docker.io/library/alpine:3.19 dir:/x/y",
    );
  });
});

describe("shAtomicWrite", () => {
  it("writes the exact content with the mode, creating parent dirs, and leaves no temp file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scr-shell-"));
    try {
      const target = path.join(dir, "a b", "it's.toml");
      const content = "line 1\nSCR_EOF\n$not_expanded `nor this`\n";
      const r = sh(SCRIPT_PRELUDE + shAtomicWrite(target, content, "0600"));
      assert.equal(r.status, 0);
      assert.equal(fs.readFileSync(target, "utf8"), content);
      assert.equal(fs.statSync(target).mode & 0o777, 0o600);
      assert.deepEqual(fs.readdirSync(path.dirname(target)), ["it's.toml"]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
