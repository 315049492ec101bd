/**
 * `mirror` end to end: two upstream registries (Debian's docker-registry on
 * 127.0.0.1, seeded with the fixtures) reached as `upstream-a.invalid`,
 * `upstream-b.invalid` and `docker.io` through a registries.conf this test
 * writes → `mirror` into an empty dir → `check` clean → dedupe, idempotence,
 * a moved tag, an unreachable host, interruption, `--prune`, `--archive` →
 * upstreams stopped → `serve` → a private containerd pulls every image by its
 * original name (tag, digest, --platform linux/arm64) through the hosts.toml
 * texts of `containerdHostsTomls`, digests equal to the upstream's.
 *
 * The tests run in order and share the mirrored tree.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { scan, sha256 } from "../../src/inventory";
import { containerdHostsTomls } from "../../src/nodes/wiring";
import { fixture, type FixtureImage } from "../fixtures/build";
import { childPids, waitGroupsGone } from "../support/procs";
import { pushFixture } from "../support/skopeo";
import { freePort } from "../support/tools";
import { treeBytes, walkTree } from "../support/trees";
import { startThrottle } from "../support/throttle";
import {
  ACCEPT_ALL_MANIFESTS,
  CLI,
  buildFixtures,
  once,
  rawRequest,
  runClientAny,
  scratch,
  startContainerd,
  startReference,
  startRegistry,
  stopAll,
  tools,
  cliWithConf,
  writeRegistriesConf,
} from "./harness";

after(stopAll);
const closeThrottles: (() => Promise<void>)[] = [];
after(() => Promise.all(closeThrottles.map((c) => c())));

/** One line of the image list: what is listed, where upstream holds it, and which fixture it is. */
interface Listed {
  /** As written in the list. */
  ref: string;
  /** The fully qualified original name (what containerd pulls). */
  name: string;
  /** The tag, if the reference has one. */
  tag?: string;
  /** Whether the list pins the digest. */
  pinned: boolean;
  form: "tag" | "digest" | "tag+digest" | "short name";
  upstream: "a" | "b";
  /** Repository:tag on the upstream registry. */
  upstreamRef: string;
  fx: FixtureImage;
  /** Tag directory relative to ROOT. */
  tagPath: string;
}

const TOOLS = ["nginx", "skopeo", "docker-registry", "containerd", "ctr"];

const env = once(async () => {
  const fx = await buildFixtures();
  const [a, b] = await Promise.all([startReference(), startReference()]);
  const f = (r: string) => fixture(fx.images, r);
  const entry = (
    form: Listed["form"],
    upstream: "a" | "b",
    upstreamRef: string,
    fxRef: string,
    name: string,
  ): Listed => {
    const img = f(fxRef);
    const tag = form === "digest" ? undefined : upstreamRef.split(":")[1];
    const ref =
      form === "short name"
        ? `alpine:${tag}`
        : form === "digest"
          ? `${name}@${img.digest}`
          : form === "tag+digest"
            ? `${name}:${tag}@${img.digest}`
            : `${name}:${tag}`;
    const last = tag ?? img.digest.replace(":", "-");
    return {
      ref,
      name,
      tag,
      pinned: form === "digest" || form === "tag+digest",
      form,
      upstream,
      upstreamRef,
      fx: img,
      tagPath: `${name}/${last}`,
    };
  };
  const list: Listed[] = [
    entry("tag", "a", "busybox:1.36", "busybox:1.36", "upstream-a.invalid/busybox"),
    entry("short name", "a", "library/alpine:3.19", "library/alpine:3.19", "docker.io/library/alpine"),
    entry("tag", "a", "multi/oci-index:1.0", "multi/oci-index:1.0", "upstream-a.invalid/multi/oci-index"),
    entry(
      "digest",
      "a",
      "multi/docker-list:1.0",
      "multi/docker-list:1.0",
      "upstream-a.invalid/multi/docker-list",
    ),
    entry("tag", "a", "big/layer:1.0", "big/layer:1.0", "upstream-a.invalid/big/layer"),
    entry("tag+digest", "b", "oci/app:1.0", "oci/app:1.0", "upstream-b.invalid/oci/app"),
    entry("tag", "b", "oci/nomt:1.0", "oci/nomt:1.0", "upstream-b.invalid/oci/nomt"),
    entry("tag", "b", "shared/base:1", "shared/base:1", "upstream-b.invalid/shared/base"),
    entry("tag", "b", "shared/base:2", "shared/base:2", "upstream-b.invalid/shared/base"),
    entry("tag", "b", "deep/team/tools:multi", "layouts/tools:multi", "upstream-b.invalid/deep/team/tools"),
  ];
  for (const l of list) pushFixture(l.fx, (l.upstream === "a" ? a : b).host, l.upstreamRef);

  const work = scratch(`mirror-e2e-${process.pid}`);
  const deadPort = await freePort();
  const throttle = await startThrottle(a.port, 2 * 1024 * 1024);
  // Slower still: the large layer would take half a minute, for what must stop a copy.
  const crawl = await startThrottle(a.port, 256 * 1024);
  closeThrottles.push(throttle.close, crawl.close);
  const registry = (prefix: string, port: number) => ({ prefix, location: `127.0.0.1:${port}` });
  const conf = writeRegistriesConf(path.join(work, "registries.conf"), [
    registry("upstream-a.invalid", a.port),
    registry("upstream-b.invalid", b.port),
    registry("docker.io", a.port),
    registry("upstream-slow.invalid", throttle.port),
    registry("upstream-crawl.invalid", crawl.port),
    registry("upstream-dead.invalid", deadPort),
  ]);
  const listFile = path.join(work, "images.txt");
  fs.writeFileSync(listFile, ["# the cluster's images", "", ...list.map((l) => l.ref)].join("\n") + "\n");
  const root = path.join(work, "images");
  return { fx, a, b, list, conf, listFile, root, work };
});

/** The CLI with the test's registries.conf. */
const cli = (conf: string, args: string[]) => cliWithConf(conf, args);

/** `cli` without blocking the event loop (which serves the throttling proxy). */
function cliAsync(
  conf: string,
  args: string[],
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, CONTAINERS_REGISTRIES_CONF: conf },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once("close", (status) => resolve({ status, stdout, stderr })));
}

/**
 * rel → "inode mtime ctime size" of every file and directory under root
 * (without the ctime, which changes when another link to the file goes).
 */
function snapshot(root: string, ctime = true): Map<string, string> {
  return new Map(
    walkTree(root).map(({ rel, stats: st }) => [
      rel,
      `${st.ino} ${st.mtimeMs} ${ctime ? st.ctimeMs : "-"} ${st.size}`,
    ]),
  );
}

/** rel → digest of every file under root. */
function contents(root: string): Map<string, string> {
  return new Map(
    walkTree(root)
      .filter((e) => e.stats.isFile())
      .map((e) => [e.rel, sha256(fs.readFileSync(e.abs))]),
  );
}

const manifestDigest = (root: string, tagPath: string) =>
  sha256(fs.readFileSync(path.join(root, tagPath, "manifest.json")));

/** Bytes a dedupe must save: per digest-named blob, every extra inode holding it (none is linked elsewhere). */
function expectedSavings(root: string): number {
  const byHex = new Map<string, Map<number, number>>();
  for (const [rel, line] of snapshot(root)) {
    const m = /(?:^|\/)([a-f0-9]{64})(?:\.manifest\.json)?$/.exec(rel);
    if (!m || rel.split("/").some((c) => c.startsWith("."))) continue;
    const [ino, , , size] = line.split(" ").map(Number);
    byHex.set(m[1], (byHex.get(m[1]) ?? new Map<number, number>()).set(ino, size));
  }
  let n = 0;
  for (const inodes of byHex.values()) n += [...inodes.values()].slice(1).reduce((a, s) => a + s, 0);
  return n;
}

const BIG_PARTIAL = (root: string, host = "upstream-slow.invalid") =>
  path.join(root, `${host}/big/layer/.1.0.partial`);

/**
 * Starts `mirror` of the large layer (8 MiB) through a throttled `host` into
 * root; resolves once 1 MiB of it has arrived.
 */
async function startSlowCopy(conf: string, root: string, host = "upstream-slow.invalid") {
  const child = spawn(process.execPath, [CLI, "mirror", `${host}/big/layer:1.0`, "--to", root], {
    env: { ...process.env, CONTAINERS_REGISTRIES_CONF: conf },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const deadline = Date.now() + 60_000;
  while (treeBytes(BIG_PARTIAL(root, host)) < 1024 * 1024) {
    assert.ok(child.exitCode === null, `mirror ended before the copy was under way:\n${out}`);
    assert.ok(Date.now() < deadline, `the copy did not get under way:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, exited, output: () => out };
}

describe("mirror", () => {
  test("bad references: one line each naming it, exit 2, nothing written", async (t) => {
    if (!tools(t, ...TOOLS)) return;
    const { conf, work } = await env();
    const root = path.join(work, "never");
    const bad = path.join(work, "bad.txt");
    fs.writeFileSync(bad, "upstream-a.invalid/busybox:1.36\nupstream-a.invalid/Busy box\n");
    const r = cli(conf, ["mirror", "--to", root, "--from", bad, "x@sha256:12", "upstream-a.invalid/a:-b"]);
    assert.equal(r.status, 2, r.stderr);
    const lines = r.stderr.trim().split("\n");
    assert.deepEqual(lines, [
      'static-container-registry: bad image reference "x@sha256:12": digest "sha256:12" is not sha256: followed by 64 lower-case hex digits',
      'bad image reference "upstream-a.invalid/a:-b": tag "-b" is not valid (letters, digits, _ . -, at most 128, not starting with . or -)',
      `bad image reference ${bad}:2: "upstream-a.invalid/Busy box": contains white space`,
      "nothing was copied",
    ]);
    assert.ok(!fs.existsSync(root), "nothing was created");
  });

  test("into an empty dir: every image under its upstream host, check clean, digests equal upstream's", async (t) => {
    if (!tools(t, ...TOOLS)) return;
    const { a, b, list, conf, listFile, root } = await env();
    for (const l of list) {
      const up = l.upstream === "a" ? a : b;
      const [repo, tag] = l.upstreamRef.split(":");
      const r = await rawRequest(up.port, "HEAD", `/v2/${repo}/manifests/${tag}`, {
        accept: ACCEPT_ALL_MANIFESTS,
      });
      assert.equal(
        r.headers["docker-content-digest"],
        l.fx.digest,
        `upstream ${l.upstream} holds ${l.upstreamRef}`,
      );
    }
    const r = cli(conf, ["mirror", "--from", listFile, "--to", root, "--no-dedupe"]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    for (const [i, l] of list.entries()) {
      const want = new RegExp(
        `^\\[${i + 1}/${list.length}\\] copied  \\S+ -> ${l.tagPath} \\(${l.fx.digest} `,
        "m",
      );
      assert.match(r.stdout, want);
      assert.equal(manifestDigest(root, l.tagPath), l.fx.digest, `${l.ref} kept its digest`);
      for (const c of l.fx.children)
        assert.ok(
          fs.existsSync(path.join(root, l.tagPath, `${c.digest.slice(7)}.manifest.json`)),
          `${l.ref}: ${c.platform} child`,
        );
    }
    assert.match(
      r.stdout,
      new RegExp(`^${list.length} images in ${root}: ${list.length} copied, 0 skipped`, "m"),
    );
    assert.ok(!fs.readdirSync(root).some((n) => n.startsWith(".")));
    const check = runClientAny(process.execPath, [CLI, "check", root]);
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /no problems/);
  });

  test("dedupe: identical blobs hardlinked, the bytes saved reported exactly, contents unchanged", async (t) => {
    if (!tools(t, ...TOOLS)) return;
    const { root } = await env();
    const before = contents(root);
    const want = expectedSavings(root);
    assert.ok(want > 0, "the images share blobs");
    const r = runClientAny(process.execPath, [CLI, "dedupe", root]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^\\d+ files hardlinked, ${want} bytes saved `));
    t.diagnostic(`dedupe: ${r.stdout.trim()}`);
    assert.deepEqual(contents(root), before);
    assert.equal(expectedSavings(root), 0, "every blob is stored once");
    const again = runClientAny(process.execPath, [CLI, "dedupe", root]);
    assert.match(again.stdout, /^0 files hardlinked, 0 bytes saved/);
    assert.equal(runClientAny(process.execPath, [CLI, "check", root]).status, 0);
  });

  test("a second run with the same list rewrites nothing and says skipped", async (t) => {
    if (!tools(t, ...TOOLS)) return;
    const { list, conf, listFile, root } = await env();
    const before = snapshot(root);
    const r = cli(conf, ["mirror", "--from", listFile, "--to", root]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    for (const l of list)
      assert.match(r.stdout, new RegExp(`skipped \\S+ -> ${l.tagPath} \\(${l.fx.digest}, up to date\\)`));
    assert.match(r.stdout, new RegExp(`0 copied, ${list.length} skipped \\(up to date\\), 0 failed`));
    assert.match(r.stdout, /^dedupe: 0 files hardlinked, 0 bytes saved/m);
    assert.deepEqual(snapshot(root), before, "same files, inodes, mtimes and ctimes");
  });

  test("tag + digest: a tag that moved upstream is reported and the pinned image kept", async (t) => {
    if (!tools(t, ...TOOLS)) return;
    const { fx, b, list, conf, root } = await env();
    const pinned = list.find((l) => l.form === "tag+digest")!;
    const other = fixture(fx.images, "busybox:1.36");
    pushFixture(other, b.host, pinned.upstreamRef);
    try {
      const r = cli(conf, ["mirror", "--to", root, pinned.ref]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /skipped .* up to date/);
      assert.equal(
        r.stderr.trim(),
        `warning: ${pinned.name}:${pinned.tag}@${pinned.fx.digest}: ${pinned.name}:${pinned.tag} now points to ${other.digest}; kept the pinned ${pinned.fx.digest}`,
      );
      assert.equal(manifestDigest(root, pinned.tagPath), pinned.fx.digest);
    } finally {
      pushFixture(pinned.fx, b.host, pinned.upstreamRef);
    }
  });

  test("an unreachable upstream: one line naming the reference, exit 1, the others still copied", async (t) => {
    if (!tools(t, ...TOOLS)) return;
    const { conf, work } = await env();
    const root = path.join(work, "unreachable");
    const r = cli(conf, [
      "mirror",
      "--to",
      root,
      "--retries",
      "1",
      "upstream-dead.invalid/team/x:1",
      "upstream-a.invalid/busybox:1.36",
    ]);
    assert.equal(r.status, 1);
    const errors = r.stderr.trim().split("\n");
    assert.equal(errors.length, 2, r.stderr);
    assert.match(
      errors[0],
      /^static-container-registry: mirror upstream-dead\.invalid\/team\/x:1: .*connection refused$/,
    );
    assert.equal(errors[1], "static-container-registry: 1 of 2 image(s) failed (above)");
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    assert.match(r.stdout, /copied  upstream-a\.invalid\/busybox:1\.36/);
    assert.ok(!fs.existsSync(path.join(root, "upstream-dead.invalid")), "no directory for the failed image");
  });

  test("killed mid-copy: no tag is left behind, and a rerun completes", async (t) => {
    if (!tools(t, ...TOOLS)) return;
    const { fx, conf, work } = await env();
    const root = path.join(work, "killed");
    const big = fixture(fx.images, "big/layer:1.0");
    const { child, exited } = await startSlowCopy(conf, root);
    // Everything at once, as a power cut would: the CLI, its sh and skopeo (their own process group).
    for (const sh of childPids(child.pid!)) process.kill(-sh, "SIGKILL");
    process.kill(child.pid!, "SIGKILL");
    await exited;
    const tagDir = path.join(root, "upstream-slow.invalid/big/layer/1.0");
    assert.ok(!fs.existsSync(tagDir), "no tag directory");
    assert.ok(treeBytes(BIG_PARTIAL(root)) > 0, "the partial copy is in its dot-directory");
    assert.equal((await scan(root)).repositories.length, 0, "the scanner sees no image");

    const r = await cliAsync(conf, ["mirror", "--to", root, "upstream-slow.invalid/big/layer:1.0"]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(manifestDigest(root, "upstream-slow.invalid/big/layer/1.0"), big.digest);
    assert.ok(!fs.existsSync(BIG_PARTIAL(root)), "the partial copy is gone");
    assert.equal(runClientAny(process.execPath, [CLI, "check", root]).status, 0);
  });

  test("Ctrl-C mid-copy: stops skopeo there and then, exit 130, no tag", async (t) => {
    if (!tools(t, ...TOOLS)) return;
    const { conf, work } = await env();
    const root = path.join(work, "interrupted");
    // Through the crawling proxy: 1 MiB of the 8 MiB layer is in, the rest would take half a minute.
    const host = "upstream-crawl.invalid";
    const { child, exited, output } = await startSlowCopy(conf, root, host);
    // Each copy runs in a process group of its own (its shell leads it): skopeo is in there.
    const groups = childPids(child.pid!);
    assert.ok(groups.length > 0, "the copy's shell is running");
    // How much of the layer arrives from the Ctrl-C on (a copy left to run would fetch it all).
    let most = 0;
    const sample = () => (most = Math.max(most, treeBytes(BIG_PARTIAL(root, host))));
    const sampler = setInterval(sample, 20);
    process.kill(child.pid!, "SIGINT");
    const code = await exited;
    clearInterval(sampler);
    sample();
    assert.equal(code, 130, output());
    assert.match(output(), /mirror stopped by SIGINT during upstream-crawl\.invalid\/big\/layer:1\.0/);
    assert.ok(!fs.existsSync(path.join(root, `${host}/big/layer/1.0`)));
    assert.ok(
      most < 2 * 1024 * 1024,
      `the download went on after Ctrl-C: ${most} bytes of the layer arrived`,
    );
    const left = await waitGroupsGone(groups);
    assert.deepEqual(
      left.map((p) => `${p.pid} ${p.comm}`),
      [],
      "every process of the copy (the shell and skopeo) was stopped",
    );
  });

  test("--prune removes the tags no longer listed and touches nothing else", async (t) => {
    if (!tools(t, ...TOOLS)) return;
    const { list, conf, listFile, root, work } = await env();
    const dropped = list.filter(
      (l) => l.fx.reference === "shared/base:2" || l.fx.reference === "layouts/tools:multi",
    );
    const kept = list.filter((l) => !dropped.includes(l));
    const shorter = path.join(work, "shorter.txt");
    fs.writeFileSync(shorter, kept.map((l) => l.ref).join("\n"));
    const before = snapshot(root, false);
    const r = cli(conf, ["mirror", "--from", shorter, "--to", root, "--prune"]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      new RegExp(
        `^pruned 2 tags no longer listed: ${dropped
          .map((l) => l.tagPath)
          .sort()
          .join(", ")}$`,
        "m",
      ),
    );
    const afterPrune = snapshot(root, false);
    for (const [rel] of before) {
      const gone = dropped.some((l) => rel === l.tagPath || rel.startsWith(l.tagPath + "/"));
      if (gone) assert.ok(!afterPrune.has(rel), `${rel} was pruned`);
    }
    // Every file left is the same file (the directories that held a pruned tag changed, of course).
    for (const [rel, line] of afterPrune)
      if (fs.statSync(path.join(root, rel)).isFile()) assert.equal(line, before.get(rel), `${rel} untouched`);
    assert.ok(!fs.existsSync(path.join(root, "upstream-b.invalid/deep")), "emptied directories removed");
    assert.equal(runClientAny(process.execPath, [CLI, "check", root]).status, 0);
    // Back to the full list (copies the two again).
    const full = cli(conf, ["mirror", "--from", listFile, "--to", root]);
    assert.equal(full.status, 0, full.stderr);
    assert.match(full.stdout, new RegExp(`2 copied, ${list.length - 2} skipped`));
  });

  test("--archive: one image as an oci-archive that ctr imports under its name and digest", async (t) => {
    if (!tools(t, ...TOOLS)) return;
    const { fx, conf, work } = await env();
    const multi = fixture(fx.images, "multi/oci-index:1.0");
    const file = path.join(work, "registry-image.tar");
    const r = cli(conf, ["mirror", "--archive", file, "upstream-a.invalid/multi/oci-index:1.0"]);
    assert.equal(r.status, 0, r.stderr);
    const cd = await startContainerd();
    const out = cd.ctr(["images", "import", "--all-platforms", file], "archive").stdout;
    assert.match(out, /upstream-a\.invalid\/multi\/oci-index:1\.0/);
    const row = cd
      .ctr(["images", "ls"], "archive")
      .stdout.split("\n")
      .find((l) => l.startsWith("upstream-a.invalid/"));
    assert.ok(row, "imported");
    assert.equal(row.split(/\s+/)[2], multi.digest);
  });

  test("upstreams stopped: containerd pulls every image by its original name from `serve`", async (t) => {
    if (!tools(t, ...TOOLS)) return;
    const { a, b, list, root, work } = await env();
    await a.server.stop();
    await b.server.stop();
    const reg = await startRegistry(root);
    const inv = await scan(root);
    const tomls = containerdHostsTomls({
      endpoint: reg.host,
      repositories: inv.repositories.map((r) => r.name),
    });
    assert.deepEqual(Object.keys(tomls), ["docker.io", "upstream-a.invalid", "upstream-b.invalid"]);
    const hostsDir = path.join(work, "certs.d");
    for (const [host, text] of Object.entries(tomls)) {
      fs.mkdirSync(path.join(hostsDir, host), { recursive: true });
      fs.writeFileSync(path.join(hostsDir, host, "hosts.toml"), text);
    }
    const cd = await startContainerd();
    const matrix: string[] = [];
    let ns = 0;
    const pull = (ref: string, want: string, extra: string[] = []) => {
      const n = `pull-${++ns}`;
      cd.ctr(["images", "pull", "--hosts-dir", hostsDir, ...extra, ref], n);
      const row = cd
        .ctr(["images", "ls"], n)
        .stdout.split("\n")
        .map((l) => l.trim().split(/\s+/))
        .find((cols) => cols[0] === ref);
      assert.ok(row, `ctr images ls shows ${ref}`);
      assert.equal(row[2], want, `${ref}: digest`);
      return new Set(
        cd
          .ctr(["content", "ls", "-q"], n)
          .stdout.split("\n")
          .filter((l) => l.startsWith("sha256:")),
      );
    };
    for (const l of list) {
      await t.test(`${l.ref} (${l.form})`, () => {
        if (l.tag !== undefined) {
          pull(`${l.name}:${l.tag}`, l.fx.digest);
          matrix.push(`ctr × ${l.form}: ${l.name}:${l.tag}`);
        }
        pull(`${l.name}@${l.fx.digest}`, l.fx.digest);
        matrix.push(`ctr × digest (${l.form} in the list): ${l.name}@${l.fx.digest.slice(0, 19)}…`);
        const arm = l.fx.children.find((c) => c.platform === "linux/arm64");
        if (arm) {
          const ref = l.tag !== undefined ? `${l.name}:${l.tag}` : `${l.name}@${l.fx.digest}`;
          const have = pull(ref, l.fx.digest, ["--platform", "linux/arm64"]);
          assert.ok(have.has(arm.digest), `${ref}: the arm64 manifest was fetched`);
          for (const layer of arm.layers)
            assert.ok(have.has(layer.digest), `${ref}: arm64 layer ${layer.digest}`);
          matrix.push(`ctr --platform linux/arm64 × ${l.form}: ${ref}`);
        }
      });
    }
    for (const m of matrix) t.diagnostic(m);
  });
});
