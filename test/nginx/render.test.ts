/**
 * render's unit tests, on hand-built inventories (no nginx, no disk):
 * determinism (also from a tree on disk, scanned), the parts and how they
 * merge, escaping and validation of user strings, case-sensitive tags,
 * referrers bodies, file splitting.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { scan } from "../../src/inventory";
import type { Inventory, ManifestRecord } from "../../src/inventory/model";
import { MediaType } from "../../src/inventory/model";
import { RenderError, renderInclude, renderStandalone } from "../../src/nginx";
import { MAX_TOKEN_BYTES, jsonText, token } from "../../src/nginx/escape";
import { NJS_MODULE } from "../../src/nginx/njs";
import { referrerChunks } from "../../src/nginx/referrers";
import { packLines, spillFileName } from "../../src/nginx/standalone";
import { writeMixedTree } from "../inventory/tree";
import { inTwoOrders } from "../support/trees";
import { syntheticInventory } from "./synthetic";

const STD = { listen: "127.0.0.1:5000", runtimeDir: "/run/scr", configDir: "/etc/scr" };
const small = () => syntheticInventory({ repos: 3, tagsPerRepo: 12 });

/** The lookup map's entries (data lines) of a text holding the map, or of a data text, in order. */
function dataLines(text: string): string[] {
  const m = /map \$scr_k \$scr_obj \{\n([\s\S]*?)\n\s*\}/.exec(text);
  return (m ? m[1] : text)
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/^(#|default |include )/.test(l));
}

/** The "this repository exists" regexes of a data part. */
const knownRepoRegex = (l: string) => l.endsWith(")[:@]' ?;");

/** Deep copy with every object's keys in reverse order. */
function reversedKeys<T>(v: T): T {
  if (Array.isArray(v)) return v.map(reversedKeys) as T;
  if (v && typeof v === "object") {
    return Object.fromEntries(
      Object.entries(v)
        .reverse()
        .map(([k, x]) => [k, reversedKeys(x)]),
    ) as T;
  }
  return v;
}

describe("render", () => {
  test("is deterministic: same inventory, byte-identical output, whatever the key order", () => {
    const inv = small();
    const m = Object.values(inv.manifests)[0];
    m.subject = Object.values(inv.manifests)[1].digest;
    m.annotations = { b: "2", a: "1", c: "$x" };
    for (const opts of [{}, { part: "constants" as const }, { part: "data" as const, namePrefix: "m/" }]) {
      assert.deepEqual(renderInclude(inv, opts), renderInclude(reversedKeys(inv), opts));
    }
    assert.deepEqual(renderStandalone(inv, STD), renderStandalone(reversedKeys(inv), STD));
  });

  test("is deterministic from disk: the same tree, added in another order with other file times, renders byte for byte alike", async () => {
    const [a, b] = await inTwoOrders("render-order", writeMixedTree, async (root) => {
      const inv = await scan(root);
      // Files in the order they are written, so that an order change shows too.
      return JSON.stringify([
        renderStandalone(inv, STD),
        renderInclude(inv),
        renderInclude(inv, { part: "data", namePrefix: "m/", catalog: true }),
      ]);
    });
    assert.ok(a.includes("layouts/tools") && a.includes("team-c/x"), "the tree's images are in the config");
    assert.equal(b, a);
  });

  test('part "constants" knows nothing of the inventory; "data" is nothing but map entries; "all" is both', () => {
    const inv = small();
    const constants = renderInclude(inv, { part: "constants" });
    const data = renderInclude(inv, { part: "data" });
    const all = renderInclude(inv);
    assert.deepEqual(
      constants,
      renderInclude(syntheticInventory({ repos: 1, tagsPerRepo: 1 }), { part: "constants" }),
    );
    assert.doesNotMatch(constants.http + constants.server, /service-0/);
    assert.match(
      constants.http,
      /map \$scr_k \$scr_obj \{\n {4}default "";\n {4}include static-container-registry\.d\/\*\.map;\n\}/,
    );
    assert.match(
      renderInclude(inv, { part: "constants", dataInclude: "/etc/nginx/reg d/*.map" }).http,
      /include '\/etc\/nginx\/reg d\/\*\.map';/,
    );
    // data: comments and `key value;` lines only.
    for (const l of data.http.split("\n").filter((x) => x !== "")) {
      assert.match(l, /^(#|\S+ \S.*;$)/, l);
      assert.doesNotMatch(l, /^\s*(map|location|server|include)\b/, l);
    }
    assert.equal(data.server.trim().startsWith("#"), true);
    // all = constants with the data inline (ids for names, the root once), and the same server text.
    assert.equal(all.server, constants.server);
    const allLines = dataLines(all.http);
    const dataObjects = dataLines(data.http).filter((l) => !knownRepoRegex(l));
    // One entry per tag and one per (repository, digest): a manifest is served under /blobs/ from its own.
    const objects = inv.repositories.reduce(
      (k, r) => k + r.tags.length + new Set([...r.manifests, ...r.blobs]).size,
      0,
    );
    assert.equal(dataObjects.length, objects);
    // In 'all', a blob that several repositories hold is one entry of the shared-blob map instead,
    // naming a group of exactly those repositories (one group per distinct set).
    const holders = new Map<string, string[]>();
    inv.repositories.forEach((r, i) => {
      for (const d of r.blobs)
        if (!r.manifests.includes(d)) holders.set(d, [...(holders.get(d) ?? []), String(i)]);
    });
    const shared = [...holders].filter(([, ids]) => ids.length > 1).sort(([a], [b]) => (a < b ? -1 : 1));
    assert.ok(shared.length > 0, "the synthetic inventory has a shared base layer");
    const sharedPairs = shared.reduce((k, [, ids]) => k + ids.length, 0);
    assert.equal(allLines.length, objects - sharedPairs);
    const mapBody = (name: string) =>
      new RegExp(`map ${name} \\{\\n {4}default "";\\n([\\s\\S]*?)\\n\\}`)
        .exec(all.http)?.[1]
        .split("\n")
        .map((l) => l.trim());
    const groups = [...new Set(shared.map(([, ids]) => ids.join(",")))];
    assert.deepEqual(
      mapBody("\\$scr_hex \\$scr_shared"),
      shared.map(
        ([d, ids]) =>
          `${d.slice(7)} ${groups.indexOf(ids.join(","))}|=${inv.blobs[d].path.replace(d.slice(7), "%")};`,
      ),
    );
    assert.deepEqual(
      mapBody("\\$scr_rid/\\$scr_group \\$scr_member"),
      groups.flatMap((g, i) => g.split(",").map((id) => `${id}/${i} 1;`)),
    );
    assert.doesNotMatch(data.http, /scr_shared/);
    for (const l of allLines) assert.match(l, /^[0-9a-z]+[:@][0-9a-z.]+ [MB]/, l);
    for (const l of dataObjects) assert.match(l, /^team\d\/service-\d{4}[:@][0-9a-z.]+ '?[MB]/, l);
    // Known repositories: 'all' has them in an exact map (ids, the lookup's default);
    // a data part, merged with others into one lookup map, as regexes there.
    assert.ok(dataLines(data.http).some(knownRepoRegex));
    assert.ok(!allLines.some(knownRepoRegex));
    assert.match(all.http, /default \$scr_known;/);
    assert.match(
      all.http,
      /map \$scr_name \$scr_rid \{\n {4}default "";\n {4}team0\/service-0000 0;\n {4}team1\/service-0001 1;\n {4}team2\/service-0002 2;\n\}/,
    );
    assert.match(all.http, /map \$scr_name \$scr_root \{\n {4}default \/srv\/images\/;\n\}/);
  });

  test("the catalog: in 'all', not in 'data' unless asked (merged data parts would collide)", () => {
    const inv = small();
    assert.match(renderInclude(inv).http, /^ {4}\|c 1;$/m);
    assert.equal(renderInclude(inv, { part: "data" }).lists.includes("|c"), false);
    assert.match(renderInclude(inv, { part: "data", catalog: true }).lists, /^\|c 1;$/m);
    assert.doesNotMatch(renderInclude(inv, { catalog: false }).http, /^\s*\|c/m);
  });

  test("namePrefix is applied to every key and validated", () => {
    const inv = small();
    const data = renderInclude(inv, { part: "data", namePrefix: "mirror/eu/" }).http;
    for (const l of dataLines(data))
      assert.match(l, /^(mirror\/eu\/|'~\^!mirror\/eu\/|'~\^!\?\(\?:mirror\/eu\/)/, l);
    const all = renderInclude(inv, { namePrefix: "mirror/eu/" }).http;
    assert.match(all, /^ {4}mirror\/eu\/team0\/service-0000 0;$/m);
    assert.match(
      all,
      /map \$scr_name \$scr_rdir \{\n {4}'~\^mirror\/eu\/\(\?<scr_rd>\.\+\+\)\$' \$scr_rd\/;/,
    );
    for (const bad of ["mirror", "Mirror/", "/mirror/", "mirror//", "a;b/", "a b/", "mirror/\n", "../"]) {
      assert.throws(() => renderInclude(inv, { namePrefix: bad }), RenderError, bad);
    }
  });

  test("serverRoot: written once (or, in a data part, into each record), quoted and escaped, variables and placeholders kept, unsafe input refused", () => {
    const inv = small();
    const blob = (root: string) =>
      dataLines(renderInclude(inv, { part: "data", serverRoot: root }).http).find((l) => / '?B/.test(l))!;
    assert.match(blob("/srv/images/"), / B=\/srv\/images\/team0\/service-0000\/v1\.0\.\d\/%;$/);
    assert.match(blob("$registry_root"), / 'B=\$registry_root\/team/);
    assert.match(blob("${root}/x"), /B=\$\{root\}\/x\/team/);
    assert.match(blob("{{ROOT}}"), /B=\{\{ROOT\}\}\/team/);
    // Quotes, backslashes, ; { } # and spaces all end up inside one quoted token.
    assert.match(blob(`/a b/it's "x" \\ y;{z}#`), /B=\/a b\/it\\'s "x" \\\\ y;\{z\}#\/team/);
    // A root with "%" is never taken for the digest's place.
    assert.match(blob("/srv/100%"), / '?B:\/srv\/100%\/team0\/service-0000\/v1\.0\.\d\/[0-9a-f]{64}'?;$/);
    const root = (r: string) =>
      /map \$scr_name \$scr_root \{\n {4}default (.*);/.exec(renderInclude(inv, { serverRoot: r }).http)?.[1];
    assert.equal(root("$registry_root"), "'$registry_root/'");
    assert.equal(root(`/a b/it's`), `'/a b/it\\'s/'`);
    assert.equal(root("/"), "/");
    for (const bad of ["/srv/\nimages", "/srv/\u0000", "/srv/$", "/srv/$1", "/srv/${x", "/srv/$(x)", ""]) {
      assert.throws(() => renderInclude(inv, { serverRoot: bad }), RenderError, JSON.stringify(bad));
    }
  });

  test("tags are case-sensitive: keys with upper case become regexes, never exact keys", () => {
    const inv = small();
    const repo = inv.repositories[0];
    const d = repo.tags[0].digest;
    repo.tags.push({ name: "Latest", digest: d, source: "" }, { name: "LATEST", digest: d, source: "" });
    const lines = dataLines(renderInclude(inv, { part: "data" }).http);
    for (const l of lines.filter((x) => !x.startsWith("'~")))
      assert.doesNotMatch(l.split(" ")[0], /[A-Z]/, l);
    const exactValue = lines.find((l) => l.startsWith(`${repo.name}:${repo.tags[0].name} `))!.split(" ")[1];
    for (const t of ["Latest", "LATEST"]) {
      const re = lines.find((l) => l.startsWith("'~^!") && l.includes(`:${t}$'`));
      assert.ok(re, `a regex key for ${t}`);
      assert.equal(re.split(" ")[1], exactValue, `${t}: same record`);
    }
  });

  test("refuses an inventory it cannot render safely", () => {
    const cases: [string, (inv: Inventory) => void][] = [
      ["a tag outside the grammar", (inv) => (inv.repositories[0].tags[0].name = "bad tag")],
      ["a name outside the grammar", (inv) => (inv.repositories[0].name = "Bad/Name")],
      ["a path leaving the root", (inv) => (Object.values(inv.blobs)[0].path = "../../etc/passwd")],
      ["an absolute path", (inv) => (Object.values(inv.blobs)[0].path = "/etc/passwd")],
      ["a path with a $", (inv) => (Object.values(inv.blobs)[0].path = "a/$x")],
      [
        "a tag without its manifest",
        (inv) => (inv.repositories[0].tags[0].digest = `sha256:${"0".repeat(64)}`),
      ],
      ["a blob not in the inventory", (inv) => inv.repositories[0].blobs.push(`sha256:${"1".repeat(64)}`)],
      ["a digest that is not sha256", (inv) => inv.repositories[0].blobs.push("md5:abc")],
      ["a strange media type", (inv) => (Object.values(inv.manifests)[0].mediaType = 'x/y"; z')],
    ];
    for (const [what, spoil] of cases) {
      const inv = small();
      spoil(inv);
      assert.throws(() => renderInclude(inv), RenderError, what);
    }
  });

  test("standalone: validated options, read-only layout, the data split into files of at most maxFileBytes", () => {
    const inv = syntheticInventory({ repos: 20, tagsPerRepo: 40 });
    const one = renderStandalone(inv, { ...STD, maxFileBytes: 4 * 1024 * 1024 });
    assert.deepEqual(Object.keys(one.files).sort(), [
      "nginx.conf",
      "static-container-registry-ui.html",
      "static-container-registry.js",
    ]);
    assert.equal(one.main, "nginx.conf");
    const conf = one.files["nginx.conf"];
    for (const re of [
      /^daemon off;$/m,
      /^pid \/run\/scr\/nginx\.pid;$/m,
      /^error_log stderr warn;$/m,
      /^ {4}client_body_temp_path \/run\/scr\/client_body_temp;$/m,
      /^ {4}(proxy|fastcgi|uwsgi|scgi)_temp_path \/run\/scr\//m,
      /^ {8}listen 127\.0\.0\.1:5000;$/m,
      /^worker_processes auto;$/m,
    ]) {
      assert.match(conf, re);
    }
    assert.doesNotMatch(conf, /^\s*include .*mime\.types|\/etc\/nginx|^user /m);
    // The njs module: loaded from where Debian and the official images put it, imported from the config dir.
    assert.match(conf, /^load_module \/usr\/lib\/nginx\/modules\/ngx_http_js_module\.so;$/m);
    assert.match(conf, /^ {4}js_import scr from static-container-registry\.js;$/m);
    assert.equal(one.files["static-container-registry.js"], NJS_MODULE);
    const builtIn = renderStandalone(inv, { ...STD, njsModulePath: "" }).files["nginx.conf"];
    assert.doesNotMatch(builtIn, /^load_module/m);
    assert.throws(() => renderStandalone(inv, { ...STD, njsModulePath: "modules/x.so" }), RenderError);

    const limit = 64 * 1024;
    const split = renderStandalone(inv, { ...STD, maxFileBytes: limit });
    const names = Object.keys(split.files).sort();
    assert.ok(names.length > 3, `${names.length} files`);
    for (const n of names) {
      assert.doesNotMatch(n, /\//);
      assert.ok(
        Buffer.byteLength(split.files[n]) <= limit,
        `${n}: ${Buffer.byteLength(split.files[n])} bytes`,
      );
    }
    const dataFiles = names.filter((n) => n.startsWith("registry-data-"));
    const repoFiles = names.filter((n) => n.startsWith("registry-repositories-"));
    const listFiles = names.filter((n) => n.startsWith("registry-lists-"));
    const sharedFiles = names.filter((n) => n.startsWith("registry-shared-"));
    const groupFiles = names.filter((n) => n.startsWith("registry-groups-"));
    assert.deepEqual(names, [
      "nginx.conf",
      ...dataFiles,
      ...groupFiles,
      ...listFiles,
      ...repoFiles,
      ...sharedFiles,
      "static-container-registry-ui.html",
      "static-container-registry.js",
    ]);
    assert.deepEqual(sharedFiles, ["registry-shared-0001.conf"]);
    assert.deepEqual(groupFiles, ["registry-groups-0001.conf"]);
    assert.deepEqual(listFiles, ["registry-lists-0001.conf"]);
    assert.deepEqual(
      dataFiles,
      dataFiles.map((_, i) => spillFileName("data", i)),
    );
    assert.deepEqual(repoFiles, ["registry-repositories-0001.conf"]);
    assert.equal(split.files[repoFiles[0]].split("\n").filter((l) => /^\S+ [0-9a-z]+;$/.test(l)).length, 20);
    const includes = [...split.files["nginx.conf"].matchAll(/include (\S+);/g)].map((m) => m[1]);
    assert.deepEqual(
      includes,
      [...dataFiles, ...repoFiles, ...sharedFiles, ...groupFiles, ...listFiles].map((n) => `/etc/scr/${n}`),
      "each data file included once, in order",
    );
    assert.deepEqual(
      dataFiles.flatMap((n) => dataLines(split.files[n])),
      dataLines(conf),
      "same data, same order",
    );

    // Requests are logged to stdout as JSON, buffered (one write per 64 KiB, at most 1 s late),
    // after the http text that defines the format.
    assert.match(conf, /^ {4}access_log \/dev\/stdout static_container_registry buffer=64k flush=1s;$/m);
    assert.ok(conf.indexOf("log_format static_container_registry") < conf.indexOf("access_log /dev/stdout"));
    const opts = { ...STD, workerProcesses: 4, user: "registry registry", accessLog: false as const };
    const custom = renderStandalone(inv, opts).files["nginx.conf"];
    assert.match(custom, /^worker_processes 4;$/m);
    assert.match(custom, /^user registry registry;$/m);
    assert.match(custom, /^ {4}access_log off;$/m);
    const combined = renderStandalone(inv, { ...STD, accessLogFormat: "combined" }).files["nginx.conf"];
    assert.match(combined, /^ {4}access_log \/dev\/stdout combined buffer=64k flush=1s;$/m);
    assert.match(
      renderStandalone(inv, { ...STD, accessLogFormat: "off" }).files["nginx.conf"],
      /^ {4}access_log off;$/m,
    );
    // Metrics: a server of their own and their module beside nginx.conf; none by default.
    assert.equal(
      Object.keys(renderStandalone(inv, STD).files).filter((f) => f.endsWith("-metrics.js")).length,
      0,
    );
    const withMetrics = renderStandalone(inv, { ...STD, metricsListen: "127.0.0.1:9113" });
    assert.match(withMetrics.files["nginx.conf"], /^ {8}listen 127\.0\.0\.1:9113;$/m);
    assert.match(withMetrics.files["static-container-registry-metrics.js"], /stub_status/);

    for (const bad of [
      { listen: "localhost" },
      { listen: "70000" },
      { listen: "1.2.3.4:80; evil" },
      { runtimeDir: "run" },
      { configDir: "etc/x" },
      { configDir: "/etc/$x" },
      { maxFileBytes: 1000 },
      { workerProcesses: 0 },
      { user: "root; daemon on" },
      { part: "data" as const },
      { accessLogFormat: "common" as "json" },
      { metricsListen: "9113; evil" },
      { metricsListen: "127.0.0.1:5000" },
    ]) {
      assert.throws(() => renderStandalone(inv, { ...STD, ...bad }), RenderError, JSON.stringify(bad));
    }
    for (const listen of ["5000", "0.0.0.0:8080", "[::1]:5000", "[::]:80", "localhost:5000"]) {
      assert.match(
        renderStandalone(inv, { ...STD, listen }).files["nginx.conf"],
        new RegExp(`listen ${listen.replace(/[[\].]/g, "\\$&")};`),
      );
    }
  });

  test("packLines keeps whole lines in order and refuses a line that cannot fit", () => {
    assert.deepEqual(packLines(["aa\n", "bb\n", "cc\n"], 6), ["aa\nbb\n", "cc\n"]);
    assert.deepEqual(packLines([], 6), [""]);
    assert.throws(() => packLines(["toolong\n"], 4), RenderError);
  });

  test("no token is longer than nginx's parser takes", () => {
    // Many repositories: their names no longer fit one known-repository regex.
    const many = renderInclude(syntheticInventory({ repos: 600, tagsPerRepo: 1 }), { part: "data" }).http;
    const regexes = many.split("\n").filter(knownRepoRegex);
    assert.ok(regexes.length > 1, "names are split over several regexes");
    for (const l of regexes)
      assert.ok(Buffer.byteLength(l) <= MAX_TOKEN_BYTES + 64, `${Buffer.byteLength(l)} bytes`);

    const inv = syntheticInventory({ repos: 2, tagsPerRepo: 300 });
    // Long tags make long list blocks.
    inv.repositories[0].tags.forEach((t, i) => (t.name = `${"x".repeat(120)}${String(i).padStart(4, "0")}`));
    const text = renderInclude(inv).http;
    for (const l of text.split("\n")) {
      for (const tok of l.match(/'(?:[^'\\]|\\.)*'|\S+/g) ?? []) {
        assert.ok(
          Buffer.byteLength(tok) <= MAX_TOKEN_BYTES,
          `${Buffer.byteLength(tok)} bytes: ${tok.slice(0, 80)}…`,
        );
      }
    }
  });
});

describe("referrers", () => {
  const manifest = (i: number, annotations?: Record<string, string>): ManifestRecord => ({
    digest: `sha256:${i.toString(16).padStart(64, "0")}`,
    size: 100 + i,
    mediaType: MediaType.ociManifest,
    kind: "image",
    path: `x/${i}`,
    children: [],
    blobs: [],
    subject: `sha256:${"f".repeat(64)}`,
    artifactType: "application/vnd.example",
    annotations,
  });

  const parse = (chunks: string[]) =>
    chunks.flatMap((c) => JSON.parse(`[${c}]`) as Record<string, unknown>[]);

  test("descriptors: fields, sorted annotations, $ escaped for nginx, one chunk when small", () => {
    const chunks = referrerChunks([manifest(1, { z: "$host", a: "it's" }), manifest(2)]);
    assert.equal(chunks.length, 1);
    assert.doesNotMatch(chunks[0], /\$/);
    assert.deepEqual(parse(chunks), [
      {
        mediaType: MediaType.ociManifest,
        digest: manifest(1).digest,
        size: 101,
        artifactType: "application/vnd.example",
        annotations: { a: "it's", z: "$host" },
      },
      {
        mediaType: MediaType.ociManifest,
        digest: manifest(2).digest,
        size: 102,
        artifactType: "application/vnd.example",
      },
    ]);
    assert.deepEqual(Object.keys(parse(chunks)[0].annotations as object), ["a", "z"]);
  });

  test("many referrers: chunks that fit one token each, every descriptor once, in order", () => {
    const all = Array.from({ length: 60 }, (_, i) =>
      manifest(i + 1, { note: "n".repeat(200), i: String(i) }),
    );
    const chunks = referrerChunks(all);
    assert.ok(chunks.length > 1);
    for (const c of chunks) assert.ok(Buffer.byteLength(token(c)) <= MAX_TOKEN_BYTES);
    assert.deepEqual(
      parse(chunks).map((d) => d.digest),
      all.map((m) => m.digest),
    );
  });

  test("a descriptor too long for one value loses its annotations, not its place", () => {
    const chunks = referrerChunks([manifest(1, { huge: "h".repeat(10000) })]);
    assert.deepEqual(Object.keys(parse(chunks)[0]), ["mediaType", "digest", "size", "artifactType"]);
  });

  test("jsonText: nginx sees no variables, JSON sees the same string", () => {
    const s = { a: "$x ${y} $ \\ ' \" \n" };
    assert.doesNotMatch(jsonText(s), /\$/);
    assert.deepEqual(JSON.parse(jsonText(s)), s);
  });
});
