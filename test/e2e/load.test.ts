/**
 * Change under load: while parallel skopeo pulls and an HTTP load generator
 * (hey, against 127.0.0.1 only) run against `serve`, new tags are added to the
 * images dir and serve is told to re-scan and reload nginx (SIGHUP), several
 * times, each early in a pull slowed by a throttling proxy. Must hold: 0
 * failed pulls, every pull byte-identical to the tree, 0 non-2xx answers and 0
 * client errors, each new tag visible after its reload, the old tags served
 * throughout, and (from the recorded times) every reload inside one pull that
 * completed. Bounded (~20 s); the figures are printed as test diagnostics.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, test } from "node:test";
import { seededBytes } from "../fixtures/prng";
import { configBlob, dig, hex, imageManifest, writeTagDir, type Blob } from "../inventory/tree";
import { startThrottle } from "../support/throttle";
import { request, scratch, startRegistry, stopAll, tools } from "./harness";

after(stopAll);

const LOAD_SECONDS = 12;
const RELOADS = 5;
const PULLERS = 2;
/** The slow puller's rate: load/b (6 MiB of layers) takes 1.5 s through it. */
const SLOW_BYTES_PER_SECOND = 4 * 1024 * 1024;

interface Image {
  repo: string;
  tag: string;
  manifest: Buffer;
  blobs: Blob[];
}

/** An image with two incompressible layers (so a pull takes long enough to span a reload). */
function image(root: string, repo: string, tag: string, mib: number): Image {
  const cfg = configBlob();
  const layers = [0, 1].map((i) => ({
    bytes: seededBytes(`${repo}:${tag}/${i}`, mib * 1024 * 1024),
    mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
  }));
  const manifest = imageManifest(cfg, layers);
  writeTagDir(root, repo, tag, manifest, [cfg, ...layers]);
  return { repo, tag, manifest, blobs: [cfg, ...layers] };
}

/** Runs a command without blocking the event loop; resolves with its status and output. */
function runAsync(cmd: string, args: string[]): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => p.kill("SIGKILL"), 120_000);
    p.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, out });
    });
  });
}

/** hey's summary: responses by status, and errors by kind. */
function heyFigures(out: string): { byStatus: Record<string, number>; errors: number; total: number } {
  const byStatus: Record<string, number> = {};
  for (const m of out.matchAll(/^\s*\[(\d{3})\]\s+(\d+) responses/gm)) byStatus[m[1]] = Number(m[2]);
  const errSection = out.split("Error distribution:")[1] ?? "";
  let errors = 0;
  for (const m of errSection.matchAll(/^\s*\[(\d+)\]/gm)) errors += Number(m[1]);
  const total = Object.values(byStatus).reduce((a, b) => a + b, 0);
  return { byStatus, errors, total };
}

test("pulls and load stay correct while tags are added and nginx reloads", async (t) => {
  if (!tools(t, "nginx", "skopeo", "hey")) return;
  const root = path.join(scratch("load"), "images");
  const old = [image(root, "load/a", "1", 2), image(root, "load/b", "1", 3), image(root, "load/c", "old", 1)];
  const reg = await startRegistry(root);
  const url = (p: string) => `http://${reg.host}${p}`;
  const began = Date.now();
  const until = began + LOAD_SECONDS * 1000;

  // 1. HTTP load: a manifest by tag (HEAD, as containerd resolves) and a small blob (GET).
  const cfgDigest = dig(old[0].blobs[0].bytes);
  const hey = [
    runAsync("hey", [
      "-z",
      `${LOAD_SECONDS}s`,
      "-c",
      "4",
      "-q",
      "200",
      "-m",
      "HEAD",
      "-H",
      "Accept: application/vnd.oci.image.manifest.v1+json",
      url("/v2/load/a/manifests/1"),
    ]),
    runAsync("hey", ["-z", `${LOAD_SECONDS}s`, "-c", "4", "-q", "200", url(`/v2/load/a/blobs/${cfgDigest}`)]),
  ];

  // 2. Parallel pulls of the old tags, each compared byte for byte with the tree: PULLERS
  // straight from serve, and one through a proxy slowed to SLOW_BYTES_PER_SECOND, so that
  // each of its pulls lasts over a second, long enough to span a whole reload.
  const throttle = await startThrottle(reg.port, SLOW_BYTES_PER_SECOND);
  t.after(() => throttle.close());
  const pulls = { ok: 0, failed: [] as string[] };
  /** When each successful pull ran (Date.now() at its start and end), and whether it was a slow one. */
  const pullSpans: { start: number; end: number; slow: boolean }[] = [];
  /** When the slow pull under way began, if one is. */
  let slowSince: number | undefined;
  const pullOnce = async (img: Image, n: number, slow = false) => {
    const dest = path.join(scratch("load-pull"), `${n}`);
    const start = Date.now();
    if (slow) slowSince = start;
    const r = await runAsync("skopeo", [
      "--insecure-policy",
      "copy",
      "--quiet",
      "--src-tls-verify=false",
      `docker://127.0.0.1:${slow ? throttle.port : reg.port}/${img.repo}:${img.tag}`,
      `dir:${dest}`,
    ]);
    const end = Date.now();
    if (slow) slowSince = undefined;
    const problems: string[] = [];
    if (r.status !== 0) problems.push(`exit ${r.status}: ${r.out.trim()}`);
    else {
      if (!fs.readFileSync(path.join(dest, "manifest.json")).equals(img.manifest))
        problems.push("manifest differs");
      for (const b of img.blobs) {
        if (!fs.readFileSync(path.join(dest, hex(b.bytes))).equals(b.bytes))
          problems.push(`blob ${dig(b.bytes)} differs`);
      }
    }
    fs.rmSync(dest, { recursive: true, force: true });
    if (problems.length)
      pulls.failed.push(`${img.repo}:${img.tag}${slow ? " (slow)" : ""}: ${problems.join("; ")}`);
    else {
      pulls.ok++;
      pullSpans.push({ start, end, slow });
    }
  };
  let pullNo = 0;
  const pullers = [
    ...Array.from({ length: PULLERS }, async (_, w) => {
      for (let i = w; Date.now() < until; i++) await pullOnce(old[i % old.length], pullNo++);
    }),
    (async () => {
      while (Date.now() < until) await pullOnce(old[1], pullNo++, true);
    })(),
  ];

  // 3. Meanwhile, RELOADS times: add a tag, SIGHUP serve early in a slow pull, wait until the tag is listed.
  const reloads: { tag: string; sent: number; visible: number }[] = [];
  const tagsOf = async (repo: string): Promise<string[]> =>
    (
      JSON.parse((await request(reg.port, "GET", `/v2/${repo}/tags/list`)).body.toString()) as {
        tags: string[];
      }
    ).tags ?? [];
  const added: Image[] = [];
  for (let i = 1; i <= RELOADS; i++) {
    const img = image(root, "load/new", `v${i}`, 1);
    added.push(img);
    // A slow pull that began 100-400 ms ago: skopeo is fetching, with a second or more to go.
    const deadline = Date.now() + 10000;
    for (;;) {
      const since = slowSince === undefined ? undefined : Date.now() - slowSince;
      if (since !== undefined && since >= 100 && since <= 400) break;
      assert.ok(Date.now() < deadline, "no slow pull under way for 10 s");
      await new Promise((r) => setTimeout(r, 5));
    }
    const sent = Date.now();
    process.kill(reg.server.pid, "SIGHUP");
    while (!(await tagsOf("load/new")).includes(img.tag)) {
      assert.ok(
        Date.now() - sent < 10000,
        `tag ${img.tag} not visible 10 s after its reload\n${reg.log().slice(-2000)}`,
      );
      await new Promise((r) => setTimeout(r, 50));
    }
    reloads.push({ tag: img.tag, sent, visible: Date.now() });
    assert.deepEqual(await tagsOf("load/c"), ["old"], "old tags still listed");
  }

  await Promise.all(pullers);
  const [heads, gets] = (await Promise.all(hey)).map((r) => ({ ...heyFigures(r.out), raw: r.out }));
  // Every added tag is pullable after the reloads, byte for byte.
  for (const img of added) await pullOnce(img, pullNo++);

  const seconds = (Date.now() - began) / 1000;
  t.diagnostic(
    `${seconds.toFixed(1)} s: ${pulls.ok} pulls ok, ${pulls.failed.length} failed; ` +
      `hey HEAD manifest ${heads.total} responses ${JSON.stringify(heads.byStatus)} errors ${heads.errors}; ` +
      `hey GET blob ${gets.total} responses ${JSON.stringify(gets.byStatus)} errors ${gets.errors}; ` +
      `${reloads.length} reloads, new tag visible after ${reloads.map((r) => r.visible - r.sent).join("/")} ms; ` +
      `slow pulls ${pullSpans
        .filter((p) => p.slow)
        .map((p) => p.end - p.start)
        .join("/")} ms`,
  );
  assert.deepEqual(pulls.failed, [], "failed or corrupted pulls");
  assert.ok(pulls.ok >= old.length + added.length, `only ${pulls.ok} pulls completed`);
  for (const [what, h] of [
    ["HEAD manifest", heads],
    ["GET blob", gets],
  ] as const) {
    assert.ok(h.total > 0, `${what}: hey made no requests\n${h.raw}`);
    assert.deepEqual(Object.keys(h.byStatus), ["200"], `${what}: non-2xx answers\n${h.raw}`);
    assert.equal(h.errors, 0, `${what}: client errors\n${h.raw}`);
  }
  assert.equal(reloads.length, RELOADS);
  // From the recorded times: every reload, from the signal until its tag was listed, happened
  // inside one pull that then completed byte for byte.
  for (const r of reloads) {
    assert.ok(
      pullSpans.some((p) => p.start < r.sent && p.end > r.visible),
      `a successful pull spanned the reload that added ${r.tag} (${r.sent}-${r.visible}): ` +
        JSON.stringify(pullSpans.filter((p) => p.end > r.sent - 2000 && p.start < r.visible + 2000)),
    );
  }
});
