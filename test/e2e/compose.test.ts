/**
 * Several images roots in one nginx server, as the README says to do it: its
 * two-roots example (the blocks marked `two-roots`) run as written against
 * real nginx — only the paths and the port replaced — with two fixture roots;
 * skopeo pulls from both byte for byte, `_catalog` pages through both, what
 * neither root holds is 404. Then one root changes, its generate line runs
 * again and replaces its files only, and the README's `nginx -s reload` line
 * serves the change. Last, an http {} with map settings of its own.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { LONGEST_KEY_BYTES, minBucketSize } from "../../src/nginx/include";
import { DEFAULT_NJS_MODULE_PATH } from "../../src/nginx/standalone";
import type { FixtureImage } from "../fixtures/build";
import { copyTag } from "../fixtures/variants";
import { chmodReadable } from "../nginx/fixture";
import { blob, configBlob, imageManifest, writeTagDir } from "../inventory/tree";
import { errorCodes, rawRequest } from "../support/http";
import { childPids, isAlive, procStat, stopDaemon } from "../support/procs";
import { assertSameImage, pullToDir } from "../support/skopeo";
import { readmeBlocks, runReadmeShell, substitute } from "../support/readme";
import { freePort, runAny, waitForPort, which } from "../support/tools";
import { fileStates } from "../support/trees";
import { CLI, buildFixtures, once, runClient, scratch, stopAll, tools } from "./harness";

/** nginx daemons the README's start line left running: stopped by the PIDs in their pid files. */
const daemons: number[] = [];
after(async () => {
  for (const pid of daemons.splice(0)) await stopDaemon(pid);
  await stopAll();
});

const env = once(async () => {
  const fx = await buildFixtures();
  const work = path.dirname(fx.root);
  // The second root: the same images but big/layer, copied as a user would.
  const base = fx.root;
  const extra = path.join(work, "extra");
  fs.cpSync(base, extra, { recursive: true });
  fs.rmSync(path.join(extra, "big"), { recursive: true });
  return { fx, work, base, extra };
});

async function getJson(port: number, target: string) {
  const r = await rawRequest(port, "GET", target);
  return {
    status: r.status,
    headers: r.headers,
    json: JSON.parse(r.body.toString()) as Record<string, unknown>,
  };
}

/** The catalog page by page (n at a time), following the Link headers. */
async function catalogPages(port: number, n: number): Promise<string[]> {
  const all: string[] = [];
  let target = `/v2/_catalog?n=${n}`;
  for (;;) {
    const r = await getJson(port, target);
    assert.equal(r.status, 200, target);
    const page = r.json.repositories as string[];
    assert.ok(page.length <= n, `${target}: at most n`);
    all.push(...page);
    const link = r.headers.link;
    if (!link) return all;
    const m = /^<([^>]+)>; rel="next"$/.exec(link);
    assert.ok(m, `Link: ${link}`);
    target = m[1];
  }
}

/** skopeo copy --all of `ref` to a dir: tree; every file is what the fixture image holds, byte for byte. */
function pullIdentical(host: string, ref: string, img: FixtureImage, out: string): void {
  const dest = path.join(out, ref.replace(/[/:]/g, "_"));
  pullToDir(host, ref, dest);
  assertSameImage(dest, img);
}

describe("several images roots in one server (README: two-roots)", () => {
  let port = 0;
  let parts = "";
  let rerun = "";
  let reload = "";
  let shellEnv: NodeJS.ProcessEnv = {};
  let log = "";
  let serving = false;

  test("the README's commands and nginx.conf, as written: pulls from both roots, the catalog of both", async (t) => {
    if (!tools(t, "nginx", "skopeo")) return;
    const { fx, work, base, extra } = await env();
    const nginx = which("nginx")!;
    port = await freePort();
    const etc = path.join(work, "etc-registry");
    parts = path.join(etc, "parts");
    log = path.join(work, "sh.log");
    fs.mkdirSync(path.join(work, "run"), { recursive: true });
    const paths: [string, string][] = [
      ["npx static-container-registry", `"${process.execPath}" "${CLI}"`],
      ["/etc/registry", etc],
      ["/srv/images/base", base],
      ["/srv/images/extra", extra],
    ];
    const blocks = readmeBlocks("two-roots");
    assert.deepEqual(
      blocks.map((b) => b.lang),
      ["sh", "nginx"],
      "the README's two-roots example: the commands, then nginx.conf",
    );
    const [commands, conf] = blocks;
    const nginxBlock = readmeBlocks("two-roots-nginx");
    assert.equal(nginxBlock.length, 1, "the README's start and reload lines");
    assert.match(
      conf.text,
      new RegExp(`^load_module ${DEFAULT_NJS_MODULE_PATH};$`, "m"),
      "the module's absolute path",
    );
    shellEnv = { ...process.env, PATH: `${path.dirname(nginx)}:${process.env.PATH ?? ""}` };

    const script = substitute(commands.text, paths);
    runReadmeShell(script, log, shellEnv);
    rerun = script
      .split("\n")
      .filter((l) => l.includes(` ${extra} `))
      .join("\n");
    assert.equal(rerun.split("\n").length, 1, "one line generates the extra root");
    fs.writeFileSync(
      path.join(etc, "nginx.conf"),
      substitute(conf.text, [
        ["/etc/registry", etc],
        ["/run/registry.pid", path.join(work, "run", "registry.pid")],
        ["listen 5000;", `listen 127.0.0.1:${port};`],
      ]),
    );
    // nginx's workers (nobody, when started as root) read the images and nothing else.
    chmodReadable(work);
    const [start, reloadLine] = nginxBlock[0].text.split("\n").filter((l) => l.trim() !== "");
    reload = substitute(reloadLine, [["/etc/registry", etc]]);
    runReadmeShell(substitute(start, [["/etc/registry", etc]]), log, shellEnv);
    const pid = Number(fs.readFileSync(path.join(work, "run", "registry.pid"), "utf8"));
    daemons.push(pid);
    await waitForPort(port, 15000);

    const host = `127.0.0.1:${port}`;
    const out = scratch("compose-pull");
    // One image of each kind and source, from each root.
    const seen = new Set<string>();
    const sample = fx.images.filter((i) => {
      const k = `${i.kind}/${i.source}/${i.features.includes("large-layer")}`;
      return !seen.has(k) && seen.add(k);
    });
    for (const img of sample) {
      pullIdentical(host, `base/${img.reference}`, img, out);
      if (img.repo !== "big/layer") pullIdentical(host, `extra/${img.reference}`, img, out);
    }

    const repos = [...new Set(fx.images.map((i) => i.repo))];
    const want = [
      ...repos.map((r) => `base/${r}`),
      ...repos.filter((r) => r !== "big/layer").map((r) => `extra/${r}`),
    ].sort();
    assert.deepEqual(
      (await getJson(port, "/v2/_catalog")).json.repositories,
      want,
      "every root's repositories",
    );
    for (const n of [1, 3, repos.length, want.length]) {
      assert.deepEqual(
        await catalogPages(port, n),
        want,
        `the catalog in pages of ${n}: each once, in order`,
      );
    }
    const last = `base/${repos.sort().at(-1)}`;
    assert.deepEqual(
      (await getJson(port, `/v2/_catalog?n=2&last=${encodeURIComponent(last)}`)).json.repositories,
      want.filter((r) => r > last).slice(0, 2),
      "a page that starts in the second root",
    );

    // What neither root holds.
    const big = fx.images.find((i) => i.repo === "big/layer")!;
    for (const [target, code] of [
      [`/v2/extra/big/layer/manifests/${big.tag}`, "NAME_UNKNOWN"],
      [`/v2/extra/big/layer/blobs/${big.layers.at(-1)!.digest}`, "NAME_UNKNOWN"],
      [`/v2/${big.reference.replace(":", "/manifests/")}`, "NAME_UNKNOWN"],
      [`/v2/base/library/alpine/manifests/0.0-none`, "MANIFEST_UNKNOWN"],
      [`/v2/base/library/alpine/blobs/sha256:${"0".repeat(64)}`, "BLOB_UNKNOWN"],
      [`/v2/other/library/alpine/tags/list`, "NAME_UNKNOWN"],
    ] as const) {
      const r = await rawRequest(port, "GET", target);
      assert.equal(r.status, 404, `${target}: ${r.body}`);
      assert.deepEqual(errorCodes(r.body), [code], target);
    }
    // The catalog page at /, from DIR (a shared part); several roots: no single name prefix to tell it.
    const page = await rawRequest(port, "GET", "/");
    assert.equal(page.status, 200);
    assert.match(page.headers["content-type"] ?? "", /^text\/html/);
    assert.match(page.headers["content-security-policy"] ?? "", /^default-src 'none'; /);
    assert.doesNotMatch(page.body.toString(), /<meta name="static-container-registry-name-prefix"/);
    serving = true;
    const miss = runAny("skopeo", [
      "inspect",
      "--tls-verify=false",
      `docker://${host}/extra/${big.reference}`,
    ]);
    assert.notEqual(miss.status, 0, "skopeo finds nothing under extra/ that only base holds");
  });

  test("re-running one root's generate line replaces its files only; the README's reload serves them", async (t) => {
    if (!tools(t, "nginx", "skopeo")) return;
    assert.ok(serving, "the registry of the README example is serving (see the test before)");
    const { fx, extra } = await env();
    const before = fileStates(parts);
    // The extra root changes: busybox goes, library/alpine gets a tag.
    const alpine = fx.images.find((i) => i.reference === "library/alpine:3.19")!;
    fs.rmSync(path.join(extra, "busybox"), { recursive: true });
    copyTag(path.join(extra, "library/alpine/3.19"), path.join(extra, "library/alpine/3.20"));
    chmodReadable(extra);
    runReadmeShell(rerun, log, shellEnv);
    const now = fileStates(parts);
    const changed = [...now.keys()].filter((f) => now.get(f)!.ino !== before.get(f)?.ino).sort();
    assert.deepEqual(changed, ["catalog.lists", "roots/extra.json", "roots/extra.lists", "roots/extra.map"]);
    for (const f of before.keys())
      if (!changed.includes(f)) assert.equal(now.get(f)!.text, before.get(f)!.text, f);

    // Until the reload, nginx serves what it loaded.
    assert.equal((await rawRequest(port, "GET", "/v2/extra/busybox/tags/list")).status, 200);
    // The old workers serve on until they see the reload; once they are gone, only the new config answers.
    const oldWorkers = childPids(daemons[0]).map((pid) => procStat(pid)!);
    assert.ok(oldWorkers.length > 0, "nginx has workers");
    runReadmeShell(reload, log, shellEnv);
    const deadline = Date.now() + 30000;
    while (oldWorkers.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(
      oldWorkers.filter(isAlive).map((p) => p.pid),
      [],
      "the old workers have exited",
    );
    const tags = (await getJson(port, "/v2/extra/library/alpine/tags/list")).json.tags;
    assert.deepEqual(tags, ["3.19", "3.20"], "the new tag, after the reload");
    const m = await rawRequest(port, "GET", "/v2/extra/library/alpine/manifests/3.20");
    assert.equal(m.status, 200);
    assert.ok(m.body.equals(fs.readFileSync(alpine.manifestPath)));
    const gone = await rawRequest(port, "GET", "/v2/extra/busybox/manifests/1.36");
    assert.deepEqual(errorCodes(gone.body), ["NAME_UNKNOWN"], "the removed repository");
    assert.equal(
      (await rawRequest(port, "GET", "/v2/base/busybox/manifests/1.36")).status,
      200,
      "the other root's",
    );
    const catalog = (await getJson(port, "/v2/_catalog")).json.repositories as string[];
    assert.ok(!catalog.includes("extra/busybox") && catalog.includes("base/busybox"), catalog.join(" "));
  });

  test("an http {} with map settings and a map of its own: --no-map-hash-sizes and the printed minimum", async (t) => {
    if (!tools(t, "nginx")) return;
    const work = scratch("compose-own-maps");
    // The longest key a valid root can give: a 255-byte name and a 128-byte tag.
    const root = path.join(work, "images");
    const name = `${"n".repeat(120)}/${"m".repeat(134)}`;
    const tag = "t".repeat(128);
    const cfg = configBlob();
    const l = blob("long");
    writeTagDir(root, name, tag, imageManifest(cfg, [l]), [cfg, l]);
    assert.equal(`${name}:${tag}`.length, LONGEST_KEY_BYTES);
    const parts = path.join(work, "parts");
    const cli = (...args: string[]) => runClient(process.execPath, [CLI, ...args]);
    cli("generate", "--shared", "--into", parts, "--no-map-hash-sizes");
    cli("generate", root, "--into", parts, "--root-name", "long");
    const http = fs.readFileSync(path.join(parts, "http.conf"), "utf8");
    const min = minBucketSize(LONGEST_KEY_BYTES);
    assert.match(http, new RegExp(`map_hash_bucket_size\\n# ${min} or more`), "says what it needs");
    chmodReadable(work);
    const port = await freePort();
    const conf = (bucket: number) => `load_module ${DEFAULT_NJS_MODULE_PATH};
pid ${work}/nginx.pid;
error_log stderr;
events {}
http {
    map_hash_bucket_size ${bucket};
    map_hash_max_size 4096;
    map $http_upgrade $connection_upgrade {
        default upgrade;
        '' close;
    }
    include ${parts}/http.conf;
    server {
        listen 127.0.0.1:${port};
        include ${parts}/server.conf;
    }
}
`;
    const nginxT = (text: string) => {
      fs.writeFileSync(path.join(work, "nginx.conf"), text);
      return runAny(which("nginx")!, ["-t", "-e", "stderr", "-c", path.join(work, "nginx.conf")]);
    };
    const ok = nginxT(conf(min));
    assert.equal(ok.status, 0, ok.stderr);
    // One cache line (64 bytes) less than the minimum is too small for the longest key.
    const small = nginxT(conf(min - 64));
    assert.notEqual(small.status, 0);
    assert.match(small.stderr, /could not build map_hash, you should increase map_hash_bucket_size/);
    // Without --no-map-hash-sizes, this http {} cannot take http.conf: what the flag is for.
    cli("generate", "--shared", "--into", parts);
    const dup = nginxT(conf(min));
    assert.match(dup.stderr, /"map_hash_(?:max_size|bucket_size)" directive is duplicate/);
  });
});
