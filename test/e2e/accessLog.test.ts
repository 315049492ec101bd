/**
 * The pull log as an operator reads it: `serve` writes one JSON object per
 * request to stdout, and for a real `skopeo copy` and a real `ctr pull` every
 * manifest and blob the client fetched has a line naming its repository and
 * digest. The README's "who pulled what" jq line runs on those lines as
 * written. `--access-log combined` writes nginx's line, `--access-log off`
 * nothing.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import {
  buildFixtures,
  hostPlatform,
  logMark,
  logSince,
  once,
  REPO_ROOT,
  request,
  runClient,
  scratch,
  startContainerd,
  startRegistry,
  stopAll,
  tools,
  waitLog,
  type Registry,
} from "./harness";

const fixtures = once(buildFixtures);
after(stopAll);

interface LogLine {
  time: string;
  unix_time: number;
  client: string;
  method: string;
  repository: string;
  reference: string;
  digest: string;
  status: number;
  bytes: number;
  duration: number;
  user_agent: string;
  request: string;
}

/** The JSON lines of serve's output since `mark` (the ready message and other stderr lines are not JSON). */
async function jsonLines(reg: Registry, mark: number, until: RegExp): Promise<LogLine[]> {
  const lines = await waitLog(reg, mark, until, 5000);
  return lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as LogLine);
}

/** Asserts a 200 GET or HEAD line for each digest in `repository`. */
function assertLogged(lines: LogLine[], repository: string, digests: Iterable<string>, what: string) {
  for (const d of digests) {
    assert.ok(
      lines.some((l) => l.repository === repository && l.digest === d && l.status === 200),
      `${what}: ${repository}@${d} has a log line:\n${lines.map((l) => JSON.stringify(l)).join("\n")}`,
    );
  }
}

/** The jq programs of the README's pull-log lines (`… | jq -rR '…'` and `jq -rR '…' FILE`). */
function readmeJqPrograms(): string[] {
  const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
  return [...readme.matchAll(/\bjq -rR '([^']+)'/g)].map((m) => m[1]);
}

describe("pull log", () => {
  test("JSON lines name the repository and digest of everything skopeo and ctr fetched", async (t) => {
    if (!tools(t, "nginx", "skopeo", "containerd", "ctr", "jq")) return;
    const fx = await fixtures();
    const reg = await startRegistry(fx.root);

    // skopeo copies the index's child for this platform: the index by tag, the child by digest, its blobs.
    const img = fx.images.find((i) => i.reference === "multi/oci-index:1.0")!;
    const child = img.children.find((c) => c.platform === hostPlatform())!;
    const dest = path.join(scratch("log-skopeo"), "copy");
    let mark = await logMark(reg);
    runClient("skopeo", [
      "--insecure-policy",
      "copy",
      "--src-tls-verify=false",
      `docker://${reg.host}/${img.reference}`,
      `dir:${dest}`,
    ]);
    const copied = fs.readdirSync(dest).filter((f) => /^[0-9a-f]{64}$/.test(f));
    const manifest = createHash("sha256")
      .update(fs.readFileSync(path.join(dest, "manifest.json")))
      .digest("hex");
    assert.equal(`sha256:${manifest}`, child.digest, "skopeo copied this platform's child");
    const skopeoLines = await jsonLines(reg, mark, new RegExp(copied.map((h) => `sha256:${h}`).join("|")));
    assertLogged(
      skopeoLines,
      img.repo,
      [img.digest, child.digest, ...copied.map((h) => `sha256:${h}`)],
      "skopeo",
    );
    const byTag = skopeoLines.find((l) => l.reference === img.tag)!;
    assert.equal(byTag.digest, img.digest, "a manifest by tag is logged with the digest it resolved to");
    assert.equal(byTag.method, "GET");
    assert.equal(byTag.client, "127.0.0.1");
    assert.match(byTag.user_agent, /skopeo|containers/i);
    assert.match(byTag.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
    assert.ok(Math.abs(byTag.unix_time - Date.now() / 1000) < 60, "unix_time is now");
    for (const l of skopeoLines) {
      assert.ok(l.duration >= 0 && l.bytes > 0, JSON.stringify(l));
      if (l.request.includes("/blobs/")) assert.equal(l.reference, "", "a blob has no reference");
    }
    const blob = skopeoLines.find((l) => l.request === `/v2/${img.repo}/blobs/sha256:${copied[0]}`)!;
    assert.equal(blob.bytes, fs.statSync(path.join(dest, copied[0])).size, "bytes: the blob's size");

    // ctr: HEAD by tag, then GET by digest; everything in its content store came from the registry.
    const cd = await startContainerd();
    const pulled = fx.images.find((i) => i.reference === "library/alpine:3.19")!;
    mark = await logMark(reg);
    cd.ctr(["images", "pull", "--plain-http", `${reg.host}/${pulled.reference}`], "log");
    const content = cd
      .ctr(["content", "ls", "-q"], "log")
      .stdout.split("\n")
      .map((l) => l.trim())
      .filter((l) => l.startsWith("sha256:"));
    assert.ok(content.length >= 3, `ctr fetched a manifest, a config and layers: ${content.join(" ")}`);
    const ctrLines = await jsonLines(reg, mark, new RegExp(content.map((d) => `${d}"`).join("|")));
    assertLogged(ctrLines, pulled.repo, content, "ctr");
    assert.ok(
      ctrLines.some((l) => l.method === "HEAD" && l.reference === pulled.tag && l.digest === pulled.digest),
      "ctr's HEAD by tag is logged with the digest",
    );

    // The README's jq lines, as written, on this log: each names the client and what it pulled.
    const logFile = path.join(scratch("log-file"), "pulls.log");
    fs.writeFileSync(logFile, logSince(reg, 0).join("\n") + "\n");
    const programs = readmeJqPrograms();
    assert.ok(programs.length >= 2, "the README has the jq line for serve's log and for kubectl logs");
    for (const program of programs) {
      const out = runClient("jq", ["-rR", program, logFile]).stdout;
      assert.ok(out.includes(`127.0.0.1 ${img.repo}@${img.digest}`), `${program}\n${out}`);
      assert.ok(out.includes(`127.0.0.1 ${pulled.repo}@${pulled.digest}`), `${program}\n${out}`);
      for (const line of out.trim().split("\n"))
        assert.match(line, /^\S+ \S+@sha256:[0-9a-f]{64}$/, "one line per manifest pulled: who, what");
    }
  });

  test("--access-log combined writes nginx's combined line; off writes none", async (t) => {
    if (!tools(t, "nginx")) return;
    const fx = await fixtures();
    const combined = await startRegistry(fx.root, ["--access-log", "combined"]);
    let mark = await logMark(combined);
    assert.equal((await request(combined.port, "GET", "/v2/busybox/manifests/1.36")).status, 200);
    const lines = await waitLog(combined, mark, /manifests\/1\.36/);
    assert.ok(
      lines.some((l) =>
        /^127\.0\.0\.1 - - \[[^\]]+\] "GET \/v2\/busybox\/manifests\/1\.36 HTTP\/1\.1" 200 \d+ "-" "[^"]*"$/.test(
          l,
        ),
      ),
      lines.join("\n"),
    );

    const off = await startRegistry(fx.root, ["--access-log", "off"]);
    mark = await logMark(off);
    assert.equal((await request(off.port, "GET", "/v2/busybox/manifests/1.36")).status, 200);
    assert.equal((await request(off.port, "GET", "/v2/busybox/manifests/nope")).status, 404);
    // The log is flushed at least every second: wait longer than that.
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(logSince(off, mark), [], "no request line");
  });
});
