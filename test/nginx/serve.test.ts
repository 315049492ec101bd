/**
 * The rendered config served by real nginx (/usr/sbin/nginx): every behaviour
 * of the pull API, checked on the wire with raw requests.
 *
 * - "standalone": the fixture tree rendered with a small maxFileBytes (so the
 *   data is split over several included files), nginx started as root;
 * - "read-only root, non-root user": the default (single-file) config, nginx
 *   started as nobody in a mount namespace where / is read-only and only the
 *   runtime dir is writable;
 * - "merged roots": part "constants" plus two part "data" texts (name
 *   prefixes, one serverRoot given as an nginx variable) in a hand-written
 *   nginx.conf, as a user of the include would do.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { sha256 } from "../../src/inventory";
import { MediaType, type Inventory } from "../../src/inventory/model";
import { renderInclude, renderStandalone } from "../../src/nginx";
import { PAGE_FILE } from "../../src/nginx/page";
import { DEFAULT_NJS_MODULE_PATH } from "../../src/nginx/standalone";
import { listPage, nextLink } from "../../src/nginx/lists";
import { childPids, uidsOf } from "../support/procs";
import {
  freePort,
  requireRoot,
  requireTool,
  startProcess,
  tmpDir,
  waitForPort,
  type Server,
} from "../support/tools";
import { NASTY_ANNOTATIONS, buildFixture, chmodReadable, type Fixture } from "./fixture";
import { lastCases } from "./listCases";
import { assertError, errorCodes, rawRequest, type RawResponse } from "../support/http";

const API = "registry/2.0";
const ABSENT = `sha256:${"0".repeat(64)}`;
const running: Server[] = [];
after(async () => {
  for (const s of running) await s.stop();
});

interface Started {
  port: number;
  server: Server;
  /** The access log (nginx's stdout, a file: /dev/stdout cannot be reopened when it is a socket). */
  log: () => string;
}

/**
 * Writes the rendered files and starts nginx on them, its stdout (the access
 * log) appended to `<runtimeDir>/stdout.log`. `wrap` may put a command in
 * front of nginx (e.g. to drop privileges).
 */
async function start(
  nginx: string,
  files: Record<string, string>,
  dirs: { configDir: string; runtimeDir: string },
  port: number,
  wrap?: (args: string[]) => string[],
): Promise<Started> {
  fs.mkdirSync(dirs.configDir, { recursive: true });
  fs.mkdirSync(dirs.runtimeDir, { recursive: true });
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dirs.configDir, name), text);
  chmodReadable(dirs.configDir);
  const args = ["-c", path.join(dirs.configDir, "nginx.conf"), "-p", dirs.runtimeDir, "-e", "stderr"];
  const check = spawnSync(nginx, ["-t", ...args], { encoding: "utf8", stdio: ["ignore", "ignore", "pipe"] });
  assert.equal(check.status, 0, `nginx -t:\n${check.stderr}`);
  // nginx -t leaves a pid file behind (owned by whoever ran it).
  fs.rmSync(path.join(dirs.runtimeDir, "nginx.pid"), { force: true });
  const logFile = path.join(dirs.runtimeDir, "stdout.log");
  fs.writeFileSync(logFile, "");
  const st = fs.statSync(dirs.runtimeDir);
  fs.chownSync(logFile, st.uid, st.gid);
  const cmd = wrap ? wrap([nginx, ...args]) : [nginx, ...args];
  const server = startProcess("sh", ["-c", 'log="$1"; shift; exec "$@" >>"$log"', "sh", logFile, ...cmd]);
  running.push(server);
  await waitForPort(port, 15000, server.proc).catch((e: Error) => {
    throw new Error(`${e.message}\n${server.output()}`);
  });
  return { port, server, log: () => fs.readFileSync(logFile, "utf8") };
}

/**
 * An nginx.conf as a user of the include writes it: the http part and the
 * server part included from registry.http.conf / registry.server.conf.
 */
function ownNginxConf(runtimeDir: string, port: number, serverExtra = ""): string {
  return `load_module ${DEFAULT_NJS_MODULE_PATH};
daemon off;
pid ${runtimeDir}/nginx.pid;
error_log stderr warn;
events {}
http {
    client_body_temp_path ${runtimeDir}/b; proxy_temp_path ${runtimeDir}/p; fastcgi_temp_path ${runtimeDir}/f;
    uwsgi_temp_path ${runtimeDir}/u; scgi_temp_path ${runtimeDir}/s;
    access_log off;
    include registry.http.conf;
    server {
        listen 127.0.0.1:${port};
        ${serverExtra}
        include registry.server.conf;
    }
}
`;
}

function assertApi(res: RawResponse, what: string) {
  const n = res.headerLines.filter(([k]) => k === "docker-distribution-api-version").length;
  assert.equal(n, 1, `${what}: one Docker-Distribution-API-Version header (got ${n})`);
  assert.equal(res.headers["docker-distribution-api-version"], API, `${what}: API version`);
}

const get = (port: number, target: string, headers?: Record<string, string>) =>
  rawRequest(port, "GET", target, headers);

describe("nginx serving the rendered config", () => {
  let fx: Fixture;
  // Every test here serves this tree: built before any of them, whichever runs.
  before(() => {
    fx = buildFixture(path.join(tmpDir("nginx-serve-images"), "images"));
  });

  test("standalone, data split over several files", async (t) => {
    const nginx = requireTool(t, "nginx");
    if (!nginx) return;
    const dir = tmpDir("nginx-serve");
    const port = await freePort();
    const configDir = path.join(dir, "conf");
    const rendered = renderStandalone(fx.inv, {
      listen: `127.0.0.1:${port}`,
      runtimeDir: path.join(dir, "run"),
      configDir,
      maxFileBytes: 64 * 1024,
    });
    assert.ok(Object.keys(rendered.files).length >= 3, "the data is split over several files");
    for (const [name, text] of Object.entries(rendered.files)) {
      assert.ok(Buffer.byteLength(text) <= 64 * 1024, `${name} fits in maxFileBytes`);
    }
    const std = await start(nginx, rendered.files, { configDir, runtimeDir: path.join(dir, "run") }, port);
    await checkEverything(t, fx, std);
  });

  test("without the catalog page (ui: false): / is a JSON 404, and the API answers byte for byte as with it", async (t) => {
    const nginx = requireTool(t, "nginx");
    if (!nginx) return;
    // The same tree served twice, with the page and without.
    const serve = async (ui: boolean) => {
      const dir = tmpDir(`nginx-ui-${ui}`);
      const port = await freePort();
      const configDir = path.join(dir, "conf");
      const runtimeDir = path.join(dir, "run");
      const rendered = renderStandalone(fx.inv, { listen: `127.0.0.1:${port}`, runtimeDir, configDir, ui });
      assert.equal(rendered.files[PAGE_FILE] === undefined, !ui);
      return start(nginx, rendered.files, { configDir, runtimeDir }, port);
    };
    const std = await serve(true);
    const { port } = await serve(false);
    for (const method of ["GET", "HEAD"]) {
      const r = await rawRequest(port, method, "/");
      assert.equal(r.status, 404, `${method} /`);
      assertApi(r, `${method} /`);
      if (method === "GET") assertError(r, 404, "NOT_FOUND", "GET /");
    }
    const urls = [
      "/v2/",
      "/v2",
      "/v2/library/alpine/manifests/3.19",
      `/v2/library/alpine/manifests/${fx.alpine319.digest}`,
      `/v2/library/alpine/blobs/${fx.alpine319.layer}`,
      "/v2/library/alpine/tags/list?n=1",
      "/v2/_catalog?n=2",
      `/v2/multi/referrers/${fx.index.digest}`,
      "/v2/no/such/manifests/latest",
      "/v2/library/alpine/manifests/sha256:1234",
      "/index.html",
      "/v2/_static-container-registry/error",
    ];
    const comparable = (r: RawResponse) => {
      const headers = { ...r.headers };
      delete headers.date;
      return { status: r.status, headers, body: r.body.toString("latin1") };
    };
    for (const url of urls) {
      for (const method of ["GET", "HEAD"]) {
        assert.deepEqual(
          comparable(await rawRequest(port, method, url)),
          comparable(await rawRequest(std.port, method, url)),
          `${method} ${url}`,
        );
      }
    }
  });

  test("read-only root filesystem, non-root user", async (t) => {
    const nginx = requireTool(t, "nginx");
    if (!nginx) return;
    if (!requireRoot(t, "a read-only mount namespace and another user (setpriv) need root")) return;
    const dir = tmpDir("nginx-ro");
    const port = await freePort();
    const runtimeDir = path.join(dir, "run");
    const configDir = path.join(dir, "conf");
    const rendered = renderStandalone(fx.inv, { listen: `127.0.0.1:${port}`, runtimeDir, configDir });
    assert.deepEqual(
      Object.keys(rendered.files).sort(),
      ["nginx.conf", "static-container-registry-ui.html", "static-container-registry.js"],
      "a small tree is one config file (and the njs module, and the catalog page)",
    );
    const nobody = spawnSync("id", ["-u", "nobody"], { encoding: "utf8" }).stdout.trim();
    const nogroup = spawnSync("id", ["-g", "nobody"], { encoding: "utf8" }).stdout.trim();
    fs.mkdirSync(runtimeDir, { recursive: true });
    fs.chownSync(runtimeDir, Number(nobody), Number(nogroup));
    const script =
      'mount --bind "$1" "$1" && mount -o remount,bind,ro / && ' +
      '{ touch /scr-must-fail 2>/dev/null && echo "root is writable" >&2 && exit 99; ' +
      'shift; exec setpriv --reuid="$UID_" --regid="$GID_" --clear-groups "$@"; }';
    const { server } = await start(nginx, rendered.files, { configDir, runtimeDir }, port, (args) => [
      "unshare",
      ...[
        "--mount",
        "--propagation",
        "private",
        "env",
        `UID_=${nobody}`,
        `GID_=${nogroup}`,
        "sh",
        "-c",
        script,
        "sh",
        runtimeDir,
        ...args,
      ],
    ]);
    // The images root (and /tmp, on the root filesystem here) is read-only for this nginx.
    const base = await get(port, "/v2/");
    assert.equal(base.status, 200);
    assertApi(base, "/v2/");
    const blob = await get(port, `/v2/multi/blobs/${fx.bigLayer.digest}`);
    assert.equal(blob.status, 200);
    assert.equal(sha256(blob.body), fx.bigLayer.digest);
    const m = await get(port, "/v2/library/alpine/manifests/3.19");
    assert.ok(m.body.equals(fx.alpine319.bytes));
    const page = await get(port, "/");
    assert.equal(page.status, 200, "the workers (nobody) read the page from the config dir");
    assert.equal(page.body.toString(), rendered.files[PAGE_FILE]);
    // The wrapper execs all the way down: the PID is nginx's master; its children are the workers.
    const workers = childPids(server.pid);
    assert.ok(workers.length > 0, "nginx has workers");
    for (const pid of [server.pid, ...workers]) {
      const uid = Number(nobody);
      assert.deepEqual(uidsOf(pid), [uid, uid, uid, uid], `pid ${pid} runs as nobody`);
    }
    assert.ok(fs.existsSync(path.join(runtimeDir, "nginx.pid")), "pid file in the runtime dir");
    await server.stop();
    assert.doesNotMatch(server.output(), /\[(emerg|alert|crit)\]/, server.output());
  });

  test("merged roots: constants + two data parts with prefixes and a variable server root", async (t) => {
    const nginx = requireTool(t, "nginx");
    if (!nginx) return;
    const dir = tmpDir("nginx-merge");
    const port = await freePort();
    const configDir = path.join(dir, "conf");
    const runtimeDir = path.join(dir, "run");
    // The same images under a second root, to tell the two parts' files apart.
    const root2 = path.join(dir, "images2");
    fs.cpSync(fx.root, root2, { recursive: true });
    chmodReadable(root2);
    const constants = renderInclude(fx.inv, {
      part: "constants",
      dataInclude: "data.d/*.map",
      listsInclude: "data.d/*.lists",
    });
    const one = renderInclude(fx.inv, { part: "data", namePrefix: "mirror/", serverRoot: "$registry_root/" });
    const two = renderInclude(
      { ...fx.inv, root: root2 },
      { part: "data", namePrefix: "other/", catalog: true },
    );
    assert.equal(one.server.trim().startsWith("#"), true, "a data part has no server text");
    fs.mkdirSync(path.join(configDir, "data.d"), { recursive: true });
    fs.writeFileSync(path.join(configDir, "data.d", "1-mirror.map"), one.http);
    fs.writeFileSync(path.join(configDir, "data.d", "2-other.map"), two.http);
    fs.writeFileSync(path.join(configDir, "data.d", "1-mirror.lists"), one.lists);
    fs.writeFileSync(path.join(configDir, "data.d", "2-other.lists"), two.lists);
    const conf = ownNginxConf(runtimeDir, port, `set $registry_root ${fx.root};`);
    await start(
      nginx,
      {
        "nginx.conf": conf,
        "registry.http.conf": constants.http,
        "registry.server.conf": constants.server,
        "static-container-registry.js": constants.js,
      },
      { configDir, runtimeDir },
      port,
    );

    for (const prefix of ["mirror/", "other/"]) {
      const m = await get(port, `/v2/${prefix}library/alpine/manifests/Latest`);
      assert.equal(m.status, 200, `${prefix}: manifest`);
      assert.ok(m.body.equals(fx.alpineUpper.bytes));
      const b = await get(port, `/v2/${prefix}multi/blobs/${fx.bigLayer.digest}`);
      assert.equal(sha256(b.body), fx.bigLayer.digest, `${prefix}: blob`);
      const tags = JSON.parse((await get(port, `/v2/${prefix}library/alpine/tags/list`)).body.toString());
      assert.deepEqual(tags, { name: `${prefix}library/alpine`, tags: ["3.19", "Latest", "latest"] });
    }
    // Data parts keep one entry per (repository, blob): a blob several repositories hold is theirs only.
    const layer = fx.alpine319.layer;
    assert.equal((await get(port, `/v2/mirror/four/tags/blobs/${layer}`)).status, 200);
    assertError(await get(port, `/v2/other/multi/blobs/${layer}`), 404, "BLOB_UNKNOWN", "not this repo's");
    assertError(await get(port, "/v2/library/alpine/manifests/3.19"), 404, "NAME_UNKNOWN", "unprefixed name");
    // Only the second part carries a catalog.
    const cat = JSON.parse((await get(port, "/v2/_catalog")).body.toString()) as { repositories: string[] };
    assert.deepEqual(
      cat.repositories,
      fx.inv.repositories.map((r) => `other/${r.name}`),
    );
    // The two parts really read their own roots: remove a file from the second root only.
    fs.rmSync(path.join(root2, "library/alpine/Latest/manifest.json"));
    assertError(
      await get(port, "/v2/other/library/alpine/manifests/Latest"),
      404,
      "MANIFEST_UNKNOWN",
      "file gone",
    );
    assert.equal((await get(port, "/v2/mirror/library/alpine/manifests/Latest")).status, 200);
  });

  test("the include (generate + generate --http) in an nginx.conf of one's own, shared blobs included", async (t) => {
    const nginx = requireTool(t, "nginx");
    if (!nginx) return;
    const dir = tmpDir("nginx-include");
    const port = await freePort();
    const configDir = path.join(dir, "conf");
    const runtimeDir = path.join(dir, "run");
    const inc = renderInclude(fx.inv);
    assert.match(inc.http, /map \$scr_hex \$scr_shared \{/, "the shared-blob map is in the http part");
    const conf = ownNginxConf(runtimeDir, port);
    await start(
      nginx,
      {
        "nginx.conf": conf,
        "registry.http.conf": inc.http,
        "registry.server.conf": inc.server,
        "static-container-registry.js": inc.js,
      },
      { configDir, runtimeDir },
      port,
    );
    const layer = fx.alpine319.layer;
    for (const repo of ["library/alpine", "many/tags", "four/tags", "a.b_c-d/e__f"]) {
      const b = await get(port, `/v2/${repo}/blobs/${layer}`);
      assert.equal(b.status, 200, repo);
      assert.equal(sha256(b.body), layer);
    }
    assertError(await get(port, `/v2/multi/blobs/${layer}`), 404, "BLOB_UNKNOWN", "not a holder");
    const m = await get(port, "/v2/library/alpine/manifests/3.19");
    assert.ok(m.body.equals(fx.alpine319.bytes));
    const tags = JSON.parse((await get(port, "/v2/four/tags/tags/list?n=2")).body.toString());
    assert.deepEqual(tags, { name: "four/tags", tags: ["1.0", "2.0"] });
  });

  test("paths with quotes, spaces, ; { } # and backslashes are quoted correctly", async (t) => {
    const nginx = requireTool(t, "nginx");
    if (!nginx) return;
    const dir = path.join(tmpDir("nginx-quote"), `it's a "dir" ;{x}# \\ end`);
    const root = path.join(dir, "images root");
    fs.cpSync(fx.root, root, { recursive: true });
    chmodReadable(dir);
    const port = await freePort();
    const configDir = path.join(dir, "conf dir");
    const runtimeDir = path.join(dir, "run dir");
    const rendered = renderStandalone(
      { ...fx.inv, root },
      { listen: `127.0.0.1:${port}`, runtimeDir, configDir, maxFileBytes: 64 * 1024 },
    );
    assert.ok(Object.keys(rendered.files).length > 1, "includes of quoted paths too");
    await start(nginx, rendered.files, { configDir, runtimeDir }, port);
    // The page's location names the config dir too.
    const page = await get(port, "/");
    assert.equal(page.status, 200);
    assert.equal(page.body.toString(), rendered.files[PAGE_FILE]);
    const m = await get(port, "/v2/library/alpine/manifests/Latest");
    assert.equal(m.status, 200);
    assert.ok(m.body.equals(fx.alpineUpper.bytes));
    const b = await get(port, `/v2/a.b_c-d/e__f/blobs/${fx.oddBlob.digest}`);
    assert.ok(b.body.equals(fx.oddBlob.bytes));
    const l = await get(port, `/v2/multi/blobs/${fx.bigLayer.digest}`);
    assert.equal(sha256(l.body), fx.bigLayer.digest);
  });

  test("a blob 2,000 repositories hold: one entry, served to all of them, to no other", async (t) => {
    const nginx = requireTool(t, "nginx");
    if (!nginx) return;
    const dir = tmpDir("nginx-shared");
    const root = path.join(dir, "images");
    fs.mkdirSync(path.join(root, "base"), { recursive: true });
    const layerBytes = Buffer.from("a base layer that every repository has");
    const otherBytes = Buffer.from("a layer of one repository");
    const layer = sha256(layerBytes);
    const other = sha256(otherBytes);
    fs.writeFileSync(path.join(root, "base", layer.slice(7)), layerBytes);
    fs.writeFileSync(path.join(root, "base", other.slice(7)), otherBytes);
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, layers: [{ digest: layer }] }));
    const md = sha256(manifest);
    fs.writeFileSync(path.join(root, "base", "manifest.json"), manifest);
    const record = (blobs: string[]) => ({
      digest: md,
      size: manifest.length,
      mediaType: MediaType.ociManifest,
      kind: "image" as const,
      path: "base/manifest.json",
      children: [],
      blobs,
    });
    const names = Array.from({ length: 2000 }, (_, i) => `r/${String(i).padStart(4, "0")}`);
    const inv = {
      root,
      repositories: [...names.map((name) => ({ name, blobs: [layer] })), { name: "solo", blobs: [other] }]
        .map(({ name, blobs }) => ({
          name,
          tags: [{ name: "1", digest: md, source: "" }],
          manifests: [md],
          blobs,
        }))
        .sort((a, b) => (a.name < b.name ? -1 : 1)),
      manifests: { [md]: record([layer]) },
      blobs: {
        [layer]: { digest: layer, size: layerBytes.length, path: `base/${layer.slice(7)}` },
        [other]: { digest: other, size: otherBytes.length, path: `base/${other.slice(7)}` },
      },
      problems: [],
    } as Inventory;
    chmodReadable(root);
    const port = await freePort();
    const configDir = path.join(dir, "conf");
    const runtimeDir = path.join(dir, "run");
    const rendered = renderStandalone(inv, { listen: `127.0.0.1:${port}`, runtimeDir, configDir });
    const conf = rendered.files["nginx.conf"];
    // One entry for the layer, no (repository, layer) entries, and a group of the 2,000 repositories.
    assert.equal(conf.split("\n").filter((l) => l.includes(layer.slice(7))).length, 1);
    assert.match(conf, new RegExp(`^ +${layer.slice(7)} 0\\|=base/%;$`, "m"));
    assert.equal(conf.split("\n").filter((l) => /^ +[0-9a-z]+\/0 1;$/.test(l)).length, 2000);
    await start(nginx, rendered.files, { configDir, runtimeDir }, port);
    for (const name of names) {
      const r = await get(port, `/v2/${name}/blobs/${layer}`);
      assert.equal(r.status, 200, name);
      assert.ok(r.body.equals(layerBytes), name);
    }
    assertError(await get(port, `/v2/solo/blobs/${layer}`), 404, "BLOB_UNKNOWN", "solo");
    assertError(await get(port, `/v2/r/0001/blobs/${other}`), 404, "BLOB_UNKNOWN", "solo's blob from r/0001");
    assert.equal((await get(port, `/v2/solo/blobs/${other}`)).status, 200);
  });

  test("the split and the inline configs hold the same data lines, in the same order", () => {
    // Same data lines in both, only packaged differently.
    const opts = { listen: "127.0.0.1:1", runtimeDir: "/run/x", configDir: "/etc/x" };
    const inline = renderStandalone(fx.inv, opts).files["nginx.conf"];
    const split = renderStandalone(fx.inv, { ...opts, maxFileBytes: 64 * 1024 }).files;
    const lines = (s: string) =>
      s
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => /^([0-9a-z]+[:@]|'~\^!|[0-9a-f]{64} |[0-9a-z]+\/[0-9a-z]+ 1;$)/.test(l));
    assert.ok(lines(inline).length > 1000, "the lookup entries");
    // In the order nginx.conf includes them.
    const fromSplit = [...split["nginx.conf"].matchAll(/include \/etc\/x\/(\S+);/g)].flatMap(([, n]) =>
      lines(split[n]),
    );
    assert.deepEqual(fromSplit, lines(inline));
  });
});

async function checkEverything(t: TestContext, fx: Fixture, { port, server, log }: Started) {
  const a319 = fx.alpine319;

  await t.test("/v2/ and /v2", async () => {
    const r = await get(port, "/v2/");
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), "{}");
    assert.equal(r.headers["content-type"], "application/json");
    assertApi(r, "GET /v2/");
    const h = await rawRequest(port, "HEAD", "/v2/");
    assert.equal(h.status, 200);
    assert.equal(h.headers["content-length"], "2");
    assertApi(h, "HEAD /v2/");
    const redirect = await get(port, "/v2");
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.location, "/v2/");
    assertApi(redirect, "/v2");
  });

  await t.test("the catalog page at /: HTML with its CSP, GET, HEAD and conditional GET", async () => {
    const r = await get(port, "/");
    assert.equal(r.status, 200);
    assert.equal(r.headers["content-type"], "text/html; charset=utf-8");
    assert.match(r.headers["content-security-policy"] ?? "", /^default-src 'none'; script-src 'sha256-/);
    assert.equal(r.headers["x-content-type-options"], "nosniff");
    assert.equal(r.headers["cache-control"], "no-cache");
    assert.match(r.body.toString(), /^<!doctype html>/);
    const h = await rawRequest(port, "HEAD", "/");
    assert.equal(h.status, 200);
    assert.equal(h.body.length, 0);
    assert.equal(h.headers["content-length"], String(r.body.length));
    assert.equal(h.headers["content-security-policy"], r.headers["content-security-policy"]);
    assert.ok(r.headers.etag, "an ETag");
    const again = await rawRequest(port, "GET", "/", { "If-None-Match": r.headers.etag! });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
  });

  await t.test("manifests by tag and by digest, GET and HEAD", async () => {
    const cases: [string, { digest: string; bytes: Buffer }, string][] = [
      ["/v2/library/alpine/manifests/3.19", a319, MediaType.dockerManifest],
      ["/v2/library/alpine/manifests/latest", a319, MediaType.dockerManifest],
      ["/v2/library/alpine/manifests/Latest", fx.alpineUpper, MediaType.ociManifest],
      [`/v2/library/alpine/manifests/${fx.alpineUpper.digest}`, fx.alpineUpper, MediaType.ociManifest],
      ["/v2/multi/manifests/v1", fx.index, MediaType.ociIndex],
      [`/v2/multi/manifests/${fx.index.digest}`, fx.index, MediaType.ociIndex],
      ...fx.children.map(
        (c) => [`/v2/multi/manifests/${c.digest}`, c, MediaType.ociManifest] as [string, typeof c, string],
      ),
      ["/v2/many/tags/manifests/T-upper", a319, MediaType.dockerManifest],
      ["/v2/a.b_c-d/e__f/manifests/1.0", a319, MediaType.dockerManifest],
      // containerd as a mirror adds ?ns=; any query is ignored.
      ["/v2/library/alpine/manifests/3.19?ns=docker.io", a319, MediaType.dockerManifest],
    ];
    for (const [url, m, type] of cases) {
      for (const method of ["GET", "HEAD"]) {
        const r = await rawRequest(port, method, url, { Accept: "application/json" });
        const what = `${method} ${url}`;
        assert.equal(r.status, 200, what);
        assertApi(r, what);
        assert.equal(r.headers["content-type"], type, `${what}: Content-Type`);
        assert.equal(
          r.headerLines.filter(([k]) => k === "content-type").length,
          1,
          `${what}: one Content-Type`,
        );
        assert.equal(r.headers["content-length"], String(m.bytes.length), `${what}: Content-Length`);
        assert.equal(r.headers["docker-content-digest"], m.digest, `${what}: digest`);
        assert.equal(r.headers.etag, `"${m.digest}"`, `${what}: ETag`);
        assert.equal(r.headers["last-modified"], undefined, `${what}: no Last-Modified`);
        const byDigest = url.includes("/manifests/sha256:");
        assert.equal(
          r.headers["cache-control"],
          byDigest ? "public, max-age=31536000, immutable" : undefined,
          what,
        );
        if (method === "GET") assert.ok(r.body.equals(m.bytes), `${what}: exact bytes`);
      }
    }
    // Tags are case-sensitive although nginx's map keys are not.
    assertError(await get(port, "/v2/library/alpine/manifests/LATEST"), 404, "MANIFEST_UNKNOWN", "LATEST");
    assertError(await get(port, "/v2/many/tags/manifests/t-upper"), 404, "MANIFEST_UNKNOWN", "t-upper");
    assertError(await get(port, "/v2/many/tags/manifests/T0001"), 404, "MANIFEST_UNKNOWN", "T0001");
    // Only this repository's manifests, by digest.
    assertError(
      await get(port, `/v2/library/alpine/manifests/${fx.index.digest}`),
      404,
      "MANIFEST_UNKNOWN",
      "another repository's manifest",
    );
  });

  await t.test("blobs: bytes, headers, Range, HEAD, manifests under /blobs/", async () => {
    const big = fx.bigLayer;
    const url = `/v2/multi/blobs/${big.digest}`;
    const r = await get(port, url);
    assert.equal(r.status, 200);
    assert.equal(sha256(r.body), big.digest);
    assert.equal(r.headers["content-type"], "application/octet-stream");
    assert.equal(r.headers["content-length"], String(big.bytes.length));
    assert.equal(r.headers["docker-content-digest"], big.digest);
    assert.equal(r.headers["cache-control"], "public, max-age=31536000, immutable");
    assert.equal(r.headers.etag, `"${big.digest}"`);
    assert.equal(r.headers["last-modified"], undefined);
    assertApi(r, url);

    const h = await rawRequest(port, "HEAD", url);
    assert.equal(h.status, 200);
    assert.equal(h.headers["content-length"], String(big.bytes.length));
    assert.equal(h.headers["docker-content-digest"], big.digest);

    const range = await get(port, url, { Range: "bytes=100-199" });
    assert.equal(range.status, 206);
    assert.equal(range.headers["content-range"], `bytes 100-199/${big.bytes.length}`);
    assert.ok(range.body.equals(big.bytes.subarray(100, 200)));
    assertApi(range, "206");
    const suffix = await get(port, url, { Range: "bytes=-10" });
    assert.equal(suffix.status, 206);
    assert.ok(suffix.body.equals(big.bytes.subarray(big.bytes.length - 10)));
    const past = await get(port, url, { Range: `bytes=1000-${big.bytes.length + 5000}` });
    assert.equal(past.status, 206);
    assert.equal(past.headers["content-range"], `bytes 1000-${big.bytes.length - 1}/${big.bytes.length}`);
    const bad = await get(port, url, { Range: `bytes=${big.bytes.length}-` });
    assertError(bad, 416, "RANGE_INVALID", "416");
    assert.equal(bad.headers["content-range"], `bytes */${big.bytes.length}`);

    // A manifest digest under /blobs/: the manifest's bytes, as a blob.
    const mb = await get(port, `/v2/multi/blobs/${fx.index.digest}`);
    assert.equal(mb.status, 200);
    assert.ok(mb.body.equals(fx.index.bytes));
    assert.equal(mb.headers["content-type"], "application/octet-stream");
    assert.equal(mb.headers["docker-content-digest"], fx.index.digest);
    // A blob whose file is not named by its digest.
    const odd = await get(port, `/v2/a.b_c-d/e__f/blobs/${fx.oddBlob.digest}`);
    assert.equal(odd.status, 200);
    assert.ok(odd.body.equals(fx.oddBlob.bytes));
    // Only this repository's blobs.
    assertError(
      await get(port, `/v2/library/alpine/blobs/${big.digest}`),
      404,
      "BLOB_UNKNOWN",
      "other repo's blob",
    );
    // A blob that several repositories hold (one shared entry where repositories have ids):
    // served to each of them, and to no other.
    for (const repo of ["library/alpine", "many/tags", "four/tags", "a.b_c-d/e__f"]) {
      for (const d of [a319.layer, a319.config]) {
        const sb = await get(port, `/v2/${repo}/blobs/${d}`);
        assert.equal(sb.status, 200, `${repo}: shared blob ${d}`);
        assert.equal(sha256(sb.body), d);
        assert.equal(sb.headers["docker-content-digest"], d);
      }
    }
    assertError(
      await get(port, `/v2/multi/blobs/${a319.layer}`),
      404,
      "BLOB_UNKNOWN",
      "a blob other repos share",
    );
    assertError(await get(port, `/v2/nope/blobs/${a319.layer}`), 404, "NAME_UNKNOWN", "unknown repository");
    assertError(await get(port, `/v2/library/alpine/blobs/${ABSENT}`), 404, "BLOB_UNKNOWN", "absent blob");
    const he = await rawRequest(port, "HEAD", `/v2/library/alpine/blobs/${ABSENT}`);
    assert.equal(he.status, 404);
    assertApi(he, "HEAD 404");
    assert.equal(he.body.length, 0);
  });

  /** GET and HEAD of one list URL: the HEAD answers like the GET, without a body. */
  const list = async (target: string) => {
    const res = await fetch(`http://127.0.0.1:${port}${target}`);
    return { status: res.status, link: res.headers.get("link") ?? undefined, res, body: await res.text() };
  };
  /** Runs `fn` over `items`, 8 at a time (the 1,000-entry table is ~11,000 requests). */
  const pool = async <T>(items: T[], fn: (x: T) => Promise<void>) => {
    const queue = [...items];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let x = queue.shift(); x !== undefined; x = queue.shift()) await fn(x);
      }),
    );
  };
  const query = (n: number | undefined, last: string | undefined) => {
    const q = [n === undefined ? "" : `n=${n}`, last === undefined ? "" : `last=${encodeURIComponent(last)}`];
    return q.filter((x) => x).join("&");
  };

  for (const [repo, all] of [
    ["four/tags", fx.fourTags],
    ["many/tags", fx.manyTags],
  ] as const) {
    await t.test(
      `tags/list of ${repo} (${all.length} tags): every n from 0 to count+1 × every last`,
      async () => {
        const path = `/v2/${repo}/tags/list`;
        const cases = lastCases(all).flatMap(({ description, last }) =>
          [undefined, ...Array.from({ length: all.length + 2 }, (_, i) => i)].map((n) => ({
            description,
            n,
            last,
          })),
        );
        await pool(cases, async ({ description, n, last }) => {
          const q = query(n, last);
          const target = q ? `${path}?${q}` : path;
          const got = await list(target);
          const want = listPage(all, n, last);
          const what = `${target} (${description})`;
          assert.equal(got.status, 200, what);
          assert.equal(got.res.headers.get("content-type"), "application/json", what);
          assert.equal(got.res.headers.get("docker-distribution-api-version"), API, what);
          assert.deepEqual(JSON.parse(got.body), { name: repo, tags: want.entries }, what);
          assert.equal(
            got.link,
            want.next === undefined ? undefined : nextLink(path, n!, want.next),
            `${what}: Link`,
          );
        });
        // HEAD answers like GET, without a body.
        for (const target of [path, `${path}?n=2`]) {
          const g = await rawRequest(port, "GET", target);
          const h = await rawRequest(port, "HEAD", target);
          assert.equal(h.status, 200);
          assert.equal(h.body.length, 0);
          for (const k of ["content-type", "content-length", "link", "docker-distribution-api-version"])
            assert.equal(h.headers[k], g.headers[k], `HEAD ${target}: ${k}`);
        }
      },
    );
  }

  await t.test("tags/list: walking the Links returns every tag once, in order; errors", async () => {
    const all = fx.manyTags;
    for (const n of [1, 7, 100, 999, 1000]) {
      for (const start of [undefined, "t0004", "t0500-not-a-tag"]) {
        const got: string[] = [];
        let target: string | undefined = `/v2/many/tags/tags/list?${query(n, start)}`;
        for (let pages = 0; target; pages++) {
          const res = await get(port, target);
          assert.equal(res.status, 200, target);
          const doc = JSON.parse(res.body.toString()) as { name: string; tags: string[] };
          assert.ok(doc.tags.length === n || !res.headers.link, `${target}: n entries while more remain`);
          got.push(...doc.tags);
          target = /^<([^>]+)>; rel="next"$/.exec(res.headers.link ?? "")?.[1];
          assert.ok(pages < 2000, "the walk ends");
        }
        assert.deepEqual(got, listPage(all, undefined, start).entries, `n=${n} from ${start}`);
      }
    }
    const whole = await get(port, "/v2/many/tags/tags/list");
    assert.deepEqual(JSON.parse(whole.body.toString()).tags, all, "without n: the whole list");
    assert.equal(whole.headers.link, undefined);
    const r = await get(port, "/v2/library/alpine/tags/list");
    assertApi(r, "tags/list");
    assert.deepEqual(JSON.parse(r.body.toString()), {
      name: "library/alpine",
      tags: ["3.19", "Latest", "latest"],
    });
    for (const n of ["abc", "-1", "1.5", "%2D1"])
      assertError(
        await get(port, `/v2/many/tags/tags/list?n=${n}`),
        400,
        "PAGINATION_NUMBER_INVALID",
        `n=${n}`,
      );
    assertError(await get(port, "/v2/no/such/tags/list"), 404, "NAME_UNKNOWN", "unknown repo");
    assertError(await get(port, "/v2/library/tags/list"), 404, "NAME_UNKNOWN", "a repository's parent");
    const h = await rawRequest(port, "HEAD", "/v2/no/such/tags/list");
    assert.equal(h.status, 404);
    assert.equal(h.body.length, 0);
  });

  await t.test("skopeo list-tags: every tag of the 1,000-tag repository, in order", async (st) => {
    const skopeo = requireTool(st, "skopeo");
    if (!skopeo) return;
    const out = spawnSync(
      skopeo,
      ["list-tags", "--tls-verify=false", `docker://127.0.0.1:${port}/many/tags`],
      {
        encoding: "utf8",
        timeout: 60000,
      },
    );
    assert.equal(out.status, 0, out.stderr);
    assert.deepEqual(JSON.parse(out.stdout), {
      Repository: `127.0.0.1:${port}/many/tags`,
      Tags: fx.manyTags,
    });
  });

  await t.test("_catalog: every n × every last, Links walked, last URL-encoded or not", async () => {
    const names = fx.inv.repositories.map((r) => r.name);
    const cases = lastCases(names).flatMap(({ description, last }) =>
      [undefined, ...Array.from({ length: names.length + 2 }, (_, i) => i)].map((n) => ({
        description,
        n,
        last,
      })),
    );
    await pool(cases, async ({ description, n, last }) => {
      const q = query(n, last);
      const target = q ? `/v2/_catalog?${q}` : "/v2/_catalog";
      const got = await list(target);
      const want = listPage(names, n, last);
      assert.equal(got.status, 200, target);
      assert.deepEqual(JSON.parse(got.body), { repositories: want.entries }, `${target} (${description})`);
      assert.equal(
        got.link,
        want.next === undefined ? undefined : nextLink("/v2/_catalog", n!, want.next),
        target,
      );
    });
    for (const enc of ["library%2Falpine", "library%2falpine", "library/alpine"]) {
      const got: string[] = [];
      let target: string | undefined = `/v2/_catalog?n=1&last=${enc}`;
      for (let i = 0; target && i < 10; i++) {
        const res = await get(port, target);
        assert.equal(res.status, 200, target);
        got.push(...(JSON.parse(res.body.toString()) as { repositories: string[] }).repositories);
        target = /^<([^>]+)>; rel="next"$/.exec(res.headers.link ?? "")?.[1];
      }
      assert.deepEqual(got, names.slice(names.indexOf("library/alpine") + 1), enc);
    }
    assertError(await get(port, "/v2/_catalog?n=x"), 400, "PAGINATION_NUMBER_INVALID", "catalog n=x");
    const h = await rawRequest(port, "HEAD", "/v2/_catalog?n=1");
    const g = await rawRequest(port, "GET", "/v2/_catalog?n=1");
    assert.equal(h.status, 200);
    assert.equal(h.body.length, 0);
    assert.equal(h.headers["content-length"], g.headers["content-length"]);
    assert.equal(h.headers.link, g.headers.link);
  });

  await t.test("referrers: an OCI index of the subject's referrers, filtered by artifactType", async () => {
    const url = `/v2/multi/referrers/${fx.index.digest}`;
    const r = await get(port, url);
    assert.equal(r.status, 200);
    assert.equal(r.headers["content-type"], MediaType.ociIndex);
    assert.equal(r.headers["oci-filters-applied"], undefined, "no filter asked, none applied");
    assertApi(r, url);
    const doc = JSON.parse(r.body.toString("utf8"));
    const descriptors = fx.referrers.map((m) => ({
      mediaType: m.mediaType,
      digest: m.digest,
      size: m.size,
      artifactType: m.artifactType,
      ...(m.annotations ? { annotations: m.annotations } : {}),
    }));
    assert.deepEqual(doc, { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: descriptors });
    assert.deepEqual(
      (doc.manifests as { annotations?: unknown }[]).find((m) => m.annotations)?.annotations,
      NASTY_ANNOTATIONS,
    );
    const filters = [
      { description: "the referrers' type", type: "application/vnd.example.signature.v1", want: descriptors },
      { description: "another type", type: "application/vnd.example.sbom", want: [] },
    ];
    for (const f of filters) {
      const res = await get(port, `${url}?artifactType=${encodeURIComponent(f.type)}`);
      assert.equal(res.status, 200, f.description);
      assert.equal(res.headers["oci-filters-applied"], "artifactType", f.description);
      assertApi(res, f.description);
      assert.deepEqual(JSON.parse(res.body.toString("utf8")).manifests, f.want, f.description);
    }
    const h = await rawRequest(port, "HEAD", url);
    assert.equal(h.status, 200);
    assert.equal(h.body.length, 0);
    assert.equal(h.headers["content-length"], String(r.body.length));
    const none = await get(port, `/v2/multi/referrers/${fx.children[0].digest}`);
    assert.equal(none.status, 200);
    assert.equal(
      none.body.toString(),
      `{"schemaVersion":2,"mediaType":"${MediaType.ociIndex}","manifests":[]}`,
    );
    assertError(
      await get(port, `/v2/no/such/referrers/${ABSENT}`),
      404,
      "NAME_UNKNOWN",
      "referrers unknown repo",
    );
    assertError(
      await get(port, "/v2/multi/referrers/sha256:1234"),
      400,
      "DIGEST_INVALID",
      "referrers bad digest",
    );
  });

  await t.test("errors: spec codes, JSON, API version, HEAD without body", async () => {
    const cases: [string, number, string][] = [
      ["/v2/no/such/manifests/latest", 404, "NAME_UNKNOWN"],
      [`/v2/no/such/manifests/${ABSENT}`, 404, "NAME_UNKNOWN"],
      [`/v2/no/such/blobs/${ABSENT}`, 404, "NAME_UNKNOWN"],
      ["/v2/library/alpine/manifests/9.99", 404, "MANIFEST_UNKNOWN"],
      [`/v2/library/alpine/manifests/${ABSENT}`, 404, "MANIFEST_UNKNOWN"],
      ["/v2/library/alpine/manifests/-not-a-tag", 404, "MANIFEST_UNKNOWN"],
      ["/v2/no/such/manifests/-not-a-tag", 404, "NAME_UNKNOWN"],
      ["/v2/library/alpine/manifests/sha256:1234", 400, "DIGEST_INVALID"],
      [`/v2/library/alpine/manifests/sha256:${"A".repeat(64)}`, 400, "DIGEST_INVALID"],
      [`/v2/library/alpine/manifests/sha512:${"a".repeat(64)}`, 400, "DIGEST_INVALID"],
      ["/v2/library/alpine/blobs/sha256:1234", 400, "DIGEST_INVALID"],
      [`/v2/library/alpine/blobs/sha256:${"A".repeat(64)}`, 400, "DIGEST_INVALID"],
      ["/v2/library/alpine/blobs/latest", 400, "DIGEST_INVALID"],
      ["/v2/library/alpine/blobs/", 400, "DIGEST_INVALID"],
      ["/v2/Library/Alpine/manifests/latest", 400, "NAME_INVALID"],
      ["/v2/-bad/tags/list", 400, "NAME_INVALID"],
      ["/v2/library/alpine/manifests/", 404, "NOT_FOUND"],
      ["/v2/library/alpine/", 404, "NOT_FOUND"],
      ["/v2/anything", 404, "NOT_FOUND"],
      ["/index.html", 404, "NOT_FOUND"],
      // The page is served at / only, not under its file's name.
      [`/${PAGE_FILE}`, 404, "NOT_FOUND"],
      ["/_static-container-registry/", 404, "NOT_FOUND"],
      ["/_static-container-registry/error", 404, "NOT_FOUND"],
    ];
    for (const [url, status, code] of cases) {
      assertError(await get(port, url), status, code, `GET ${url}`);
      const h = await rawRequest(port, "HEAD", url);
      assert.equal(h.status, status, `HEAD ${url}`);
      assertApi(h, `HEAD ${url}`);
      assert.equal(h.body.length, 0);
    }
  });

  await t.test("writes: 405 UNSUPPORTED with Allow: GET, HEAD on every URL", async () => {
    const body = Buffer.from("{}");
    const writes: [string, string][] = [
      ["POST", "/v2/library/alpine/blobs/uploads/"],
      ["POST", `/v2/library/alpine/blobs/uploads/?mount=${a319.layer}&from=multi`],
      ["PATCH", "/v2/library/alpine/blobs/uploads/0b1c2d3e"],
      ["PUT", `/v2/library/alpine/blobs/uploads/0b1c2d3e?digest=${a319.layer}`],
      ["PUT", "/v2/library/alpine/manifests/3.19"],
      ["PUT", "/v2/new/repo/manifests/latest"],
      ["DELETE", `/v2/library/alpine/manifests/${a319.digest}`],
      ["DELETE", `/v2/library/alpine/blobs/${a319.layer}`],
      ["POST", "/v2/"],
      ["OPTIONS", "/v2/"],
      ["POST", "/"],
      ["GET", "/v2/library/alpine/blobs/uploads/"],
      ["GET", "/v2/library/alpine/blobs/uploads/0b1c2d3e"],
    ];
    for (const [method, url] of writes) {
      const r = await rawRequest(port, method, url, {}, method === "GET" ? undefined : body);
      assertError(r, 405, "UNSUPPORTED", `${method} ${url}`);
      assert.equal(r.headers.allow, "GET, HEAD", `${method} ${url}: Allow`);
    }
    const after = await get(port, "/v2/library/alpine/manifests/3.19");
    assert.ok(after.body.equals(a319.bytes), "nothing changed");
    // The access log is buffered and flushed at least every second.
    const logged = /"method":"POST",.*"status":405,.*"request":"\/v2\/library\/alpine\/blobs\/uploads\/"/;
    for (let i = 0; i < 40 && !logged.test(log()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(log(), logged, "access log on stdout");
  });

  await t.test("crafted URLs sent raw never return a file", async () => {
    const secrets = [
      fs.readFileSync("/etc/passwd"),
      fs.readFileSync(path.join(fx.root, "library/alpine/3.19/manifest.json")),
      fx.oddBlob.bytes,
    ];
    const layer = a319.layer.slice(7);
    const probes = [
      "/v2/../../etc/passwd",
      "/v2/%2e%2e/%2e%2e/etc/passwd",
      "/v2/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
      "/v2/library/alpine/blobs/..%2f3.19%2fmanifest.json",
      "/v2/library/alpine/blobs/sha256:..%2f..%2fetc%2fpasswd",
      "/v2/library/alpine/manifests/..%2f..%2f..%2fetc%2fpasswd",
      "/v2/library/alpine/manifests/../3.19/manifest.json",
      "/v2/library/alpine/3.19/manifest.json",
      `/v2/library/alpine/3.19/${layer}`,
      "/library/alpine/3.19/manifest.json",
      "//etc/passwd",
      "/etc/passwd",
      "/v2/library/alpine/manifests/3.19%00",
      "/v2/library/alpine/manifests/3.19%00.json",
      "/v2/library/alpine/manifests/3.19%2f..%2f..%2fetc%2fpasswd",
      "/v2/library/alpine/manifests/3.19;/../../etc/passwd",
      "/v2/library/alpine/manifests/3.19\\..\\..\\version",
      "/v2/odd/not-a-hex-name.bin",
      "/odd/not-a-hex-name.bin",
      `/v2/library/alpine/blobs/sha256%3a${layer}%2f..%2f..%2f3.19%2fmanifest.json`,
      "/v2/_catalog/../library/alpine/3.19/manifest.json",
      "/v2/library/alpine/tags/list%2f..%2f..%2f3.19%2fmanifest.json",
      "/v2/layouts/multi/blobs/sha256/" + fx.index.digest.slice(7),
      "/v2/library/alpine/",
      "/v2/library/",
    ];
    for (const target of probes) {
      const r = await get(port, target);
      assert.ok([400, 404].includes(r.status), `${target}: status ${r.status}`);
      assertApi(r, target);
      assert.equal(r.headers["content-type"], "application/json", `${target}: JSON`);
      errorCodes(r.body);
      for (const s of secrets) assert.ok(!r.body.includes(s), `${target} returned a file`);
    }
  });

  await t.test("the error log is clean", () => {
    assert.doesNotMatch(server.output(), /\[(emerg|alert|crit|warn)\]/, server.output());
  });
}
