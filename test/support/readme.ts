/**
 * The README's examples as tests run them: its code blocks by marker (the
 * info string `<lang> <marker>`), and their text with paths and ports
 * replaced — each replaced text must be there, so a README that moved on
 * fails the test instead of passing it unexamined.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const README = path.resolve(__dirname, "..", "..", "..", "README.md");

/** The README's code blocks whose info string is `<lang> <marker>`, in order. */
export function readmeBlocks(marker: string): { lang: string; text: string }[] {
  const readme = fs.readFileSync(README, "utf8");
  const re = new RegExp(`^\`\`\`(\\w+) ${marker}\\n([\\s\\S]*?)^\`\`\`$`, "gm");
  return [...readme.matchAll(re)].map((m) => ({ lang: m[1], text: m[2] }));
}

/** `text` with each [from, to] replaced everywhere; each `from` must be there (else the README moved on). */
export function substitute(text: string, pairs: [string, string][]): string {
  let out = text;
  for (const [from, to] of pairs) {
    assert.ok(out.includes(from), `the README example no longer holds ${JSON.stringify(from)}`);
    out = out.split(from).join(to);
  }
  return out;
}

/** Runs a README example's shell text with sh -e, its output to `log` (a daemon it starts must not hold a pipe of ours). */
export function runReadmeShell(text: string, log: string, env: NodeJS.ProcessEnv): void {
  const fd = fs.openSync(log, "a");
  try {
    const r = spawnSync("sh", ["-e", "-c", text], { env, stdio: ["ignore", fd, fd], timeout: 120_000 });
    assert.equal(r.status, 0, `sh -e failed (${r.status}):\n${text}\n${fs.readFileSync(log, "utf8")}`);
  } finally {
    fs.closeSync(fd);
  }
}
