/**
 * The composition directory's pure builders (src/nginx/compose.ts), without
 * nginx: root names, the directory check, root records read back, the
 * catalog over several roots — paged by the very njs module nginx runs, with
 * every n and last across the roots' boundaries — and the shared parts.
 * (Real nginx serving a composition: test/e2e/compose.test.ts.)
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import { byteOrder } from "../../src/inventory/model";
import { RenderError, renderInclude } from "../../src/nginx";
import {
  checkComposeDir,
  composeCatalog,
  parseRootRecord,
  recordText,
  renderComposeRoot,
  renderComposeShared,
  rootName,
  type RootRecord,
} from "../../src/nginx/compose";
import { LONGEST_KEY_BYTES, minBucketSize } from "../../src/nginx/include";
import { listPage } from "../../src/nginx/lists";
import { lastCases } from "./listCases";
import { listMap, runNjs } from "./njsSim";
import { syntheticInventory } from "./synthetic";

function record(name: string, repositories: string[], root = `/srv/${name}`): RootRecord {
  return { name, root, serverRoot: root, namePrefix: "", repositories: [...repositories].sort(byteOrder) };
}

/** The map lines of a catalog text (its comments dropped). */
const mapLines = (text: string) => text.split("\n").filter((l) => l !== "" && !l.startsWith("#"));

/** The whole catalog as the njs module answers it, page by page with n, following the Link header. */
function pages(text: string, n: number): { entries: string[]; pages: number } {
  const map = listMap(mapLines(text));
  const entries: string[] = [];
  let args: Record<string, string> = { n: String(n) };
  for (let count = 1; ; count++) {
    const a = runNjs("catalog", map, {}, args);
    assert.equal(a.status, 200);
    entries.push(...(JSON.parse(a.body!) as { repositories: string[] }).repositories);
    const link = a.headers.Link;
    if (link === undefined) return { entries, pages: count };
    const next = /<\/v2\/_catalog\?n=(\d+)&last=([^>]*)>; rel="next"/.exec(link);
    assert.ok(next, `a Link to the next page: ${link}`);
    args = { n: next[1], last: decodeURIComponent(next[2]) };
  }
}

describe("composition (compose.ts)", () => {
  test("rootName: given, or from the name prefix; none without a prefix", () => {
    const cases: { name: string; prefix: string; explicit?: string; want?: string; error?: RegExp }[] = [
      { name: "from a prefix", prefix: "base/", want: "base" },
      { name: "from a nested prefix", prefix: "team/base/", want: "team+base" },
      { name: "given, beside a prefix", prefix: "base/", explicit: "first", want: "first" },
      {
        name: "given, without a prefix",
        prefix: "",
        explicit: "docker.io_mirror-2",
        want: "docker.io_mirror-2",
      },
      { name: "none without a prefix", prefix: "", error: /needs a root name \(--root-name NAME\)/ },
      { name: "a path", prefix: "", explicit: "a/b", error: /root name "a\/b" must be/ },
      { name: "a dot file", prefix: "", explicit: ".hidden", error: /root name ".hidden" must be/ },
      { name: "a glob", prefix: "", explicit: "a*", error: /must be/ },
      { name: "too long", prefix: "", explicit: "x".repeat(101), error: /must be 1-100/ },
    ];
    for (const c of cases) {
      if (c.error) assert.throws(() => rootName(c.prefix, c.explicit), c.error, c.name);
      else assert.equal(rootName(c.prefix, c.explicit), c.want, c.name);
    }
  });

  test("checkComposeDir: absolute, and nothing nginx or njs would read otherwise", () => {
    const cases: { name: string; dir: string; want?: string; error?: RegExp }[] = [
      { name: "plain", dir: "/etc/registry/parts", want: "/etc/registry/parts" },
      { name: "trailing slash", dir: "/etc/registry/", want: "/etc/registry" },
      { name: "a space", dir: "/etc/my registry", want: "/etc/my registry" },
      { name: "relative", dir: "parts", error: /must be an absolute path/ },
      { name: "a variable", dir: "/etc/$x", error: /must not contain '\$'/ },
      { name: "a glob", dir: "/etc/r*", error: /must not contain \* \? \[ \] quotes/ },
      { name: "a bracket", dir: "/etc/r[1]", error: /must not contain/ },
      { name: "a quote", dir: "/etc/it's", error: /must not contain/ },
      { name: "a backslash", dir: "/etc/a\\b", error: /must not contain/ },
    ];
    for (const c of cases) {
      if (c.error) assert.throws(() => checkComposeDir(c.dir), c.error, c.name);
      else assert.equal(checkComposeDir(c.dir), c.want, c.name);
    }
  });

  test("composeCatalog: the sorted union of the roots; a repository in two roots is refused, naming both", () => {
    const cases: { name: string; records: RootRecord[]; want?: string[]; error?: RegExp[] }[] = [
      { name: "no roots", records: [], want: [] },
      { name: "one root", records: [record("a", ["x/1", "a/2"])], want: ["a/2", "x/1"] },
      {
        name: "interleaved roots",
        records: [record("b", ["m", "b/1", "z"]), record("a", ["a/1", "n", "c"])],
        want: ["a/1", "b/1", "c", "m", "n", "z"],
      },
      {
        name: "the same name in two roots",
        records: [record("one", ["x", "shared/app"]), record("two", ["shared/app", "y"])],
        error: [
          /1 repository is in two roots/,
          /shared\/app: root one \(\/srv\/one\) and root two \(\/srv\/two\)/,
        ],
      },
      {
        name: "many shared names: the first ten named, the rest counted",
        records: [
          record(
            "p",
            Array.from({ length: 12 }, (_, i) => `r${i}`),
          ),
          record(
            "q",
            Array.from({ length: 12 }, (_, i) => `r${i}`),
          ),
        ],
        error: [/12 repositories are in two roots/, /… and 2 more/],
      },
    ];
    for (const c of cases) {
      if (c.error) {
        assert.throws(
          () => composeCatalog(c.records),
          (e: Error) => e instanceof RenderError && c.error!.every((re) => re.test(e.message)),
          c.name,
        );
        continue;
      }
      const text = composeCatalog(c.records);
      assert.deepEqual(pages(text, 1000).entries, c.want, c.name);
      // The same records in another order: the same file.
      assert.equal(composeCatalog([...c.records].reverse()), text, `${c.name}: order of the records`);
    }
  });

  test("the composed catalog pages like one list: every n and last across the roots, no entry twice", () => {
    // Three roots whose names interleave, big enough for the catalog to span several chunks.
    const roots = ["alpha", "beta", "gamma"].map((r, k) =>
      record(
        r,
        Array.from(
          { length: 400 },
          (_, i) => `team${(i * 3 + k) % 11}/svc-${String(i * 3 + k).padStart(5, "0")}`,
        ),
      ),
    );
    const all = roots.flatMap((r) => r.repositories).sort(byteOrder);
    const text = composeCatalog(roots);
    assert.ok(mapLines(text).length > 3, "the catalog is stored in several chunks");
    const map = listMap(mapLines(text));
    for (const { description, last } of lastCases(all)) {
      for (const n of [undefined, 0, 1, 2, 399, 400, 401, 1199, 1200, 1201]) {
        const args: Record<string, string> = {};
        if (n !== undefined) args.n = String(n);
        if (last !== undefined) args.last = last;
        const a = runNjs("catalog", map, {}, args);
        const want = listPage(all, n, last);
        const what = `n=${n} last=${description}`;
        assert.deepEqual(
          (JSON.parse(a.body!) as { repositories: string[] }).repositories,
          want.entries,
          what,
        );
        assert.equal(a.headers.Link !== undefined, want.next !== undefined, `${what}: Link`);
      }
    }
    for (const n of [1, 7, 400, 1000]) {
      const p = pages(text, n);
      assert.deepEqual(p.entries, all, `pages of ${n}: every repository once, in order`);
      assert.equal(p.pages, Math.ceil(all.length / n), `pages of ${n}: no empty last page`);
    }
  });

  test("a root's record reads back as written; a broken one is named with its file and field", () => {
    const r = record("base", ["base/a", "base/b"]);
    assert.deepEqual(parseRootRecord(recordText(r), "/d/roots/base.json"), r);
    const cases: { name: string; text: string; file?: string; error: RegExp }[] = [
      { name: "not JSON", text: "{", error: /: \/d\/roots\/base\.json: not valid JSON/ },
      {
        name: "foreign JSON",
        text: '{"name":"base"}',
        error: /not a root record of static-container-registry/,
      },
      {
        name: "fields of the wrong type",
        text: recordText(r).replace('"root": "/srv/base"', '"root": 1'),
        error: /"root" is not a string/,
      },
      {
        name: "an invalid repository name",
        text: recordText({ ...r, repositories: ["base/a", "Base/B"] }),
        error: /"repositories" holds 1 invalid name\(s\), e\.g\. "Base\/B"/,
      },
      {
        name: "another root's record under this name",
        text: recordText(r),
        file: "/d/roots/other.json",
        error: /"name" is "base", not the file's name/,
      },
    ];
    for (const c of cases)
      assert.throws(() => parseRootRecord(c.text, c.file ?? "/d/roots/base.json"), c.error, c.name);
  });

  test("a root's files: its data part's entries under its name, no catalog, and its record", () => {
    const inv = syntheticInventory({ repos: 3, tagsPerRepo: 2, root: "/srv/base" });
    const { files, record: rec } = renderComposeRoot(inv, { namePrefix: "base/", serverRoot: "$base_root" });
    assert.deepEqual(Object.keys(files).sort(), ["roots/base.json", "roots/base.lists", "roots/base.map"]);
    const data = renderInclude(inv, { part: "data", namePrefix: "base/", serverRoot: "$base_root" });
    assert.equal(files["roots/base.map"], data.http);
    assert.equal(files["roots/base.lists"], data.lists);
    assert.doesNotMatch(files["roots/base.lists"], /^\|c/m, "the catalog is not in a root's lists");
    assert.deepEqual(rec, {
      name: "base",
      root: "/srv/base",
      serverRoot: "$base_root",
      namePrefix: "base/",
      repositories: inv.repositories.map((r) => `base/${r.name}`).sort(byteOrder),
    });
    assert.deepEqual(parseRootRecord(files["roots/base.json"], "roots/base.json"), rec);
    assert.throws(() => renderComposeRoot(inv), /needs a root name/);
  });

  test("the shared parts: absolute includes of the roots and the catalog; map hash sizes only when asked", () => {
    const files = renderComposeShared({ dir: "/etc/registry/parts" });
    assert.deepEqual(Object.keys(files).sort(), [
      "http.conf",
      "server.conf",
      "static-container-registry-ui.html",
      "static-container-registry.js",
    ]);
    const http = files["http.conf"];
    assert.match(http, /^ {4}include \/etc\/registry\/parts\/roots\/\*\.map;$/m);
    assert.match(http, /^ {4}include \/etc\/registry\/parts\/roots\/\*\.lists;$/m);
    assert.match(http, /^ {4}include \/etc\/registry\/parts\/catalog\.lists;$/m);
    assert.match(http, /^js_import scr from \/etc\/registry\/parts\/static-container-registry\.js;$/m);
    assert.match(http, /^map_hash_bucket_size \d+;$/m);
    // The include's locations, and the catalog page at / (served from DIR); none with ui: false.
    const include = renderInclude(syntheticInventory({ repos: 1, tagsPerRepo: 1 })).server;
    assert.ok(files["server.conf"].startsWith(include));
    assert.match(
      files["server.conf"].slice(include.length),
      /^location = \/ \{\n {4}root \/etc\/registry\/parts;$/m,
    );
    const noUi = renderComposeShared({ dir: "/etc/registry/parts", ui: false });
    assert.equal(noUi["server.conf"], include);
    assert.deepEqual(Object.keys(noUi).sort(), ["http.conf", "server.conf", "static-container-registry.js"]);
    const own = renderComposeShared({ dir: "/etc/registry/parts", mapHashSizes: false })["http.conf"];
    assert.doesNotMatch(own, /^map_hash/m, "no directive");
    assert.match(own, new RegExp(`map_hash_bucket_size\\n# ${minBucketSize(LONGEST_KEY_BYTES)} or more`));
    assert.throws(() => renderComposeShared({ dir: "parts" }), /absolute/);
    const readme = fs.readFileSync(path.join(__dirname, "../../../README.md"), "utf8");
    assert.match(
      readme,
      new RegExp(
        `\`map_hash_bucket_size\` ${minBucketSize(LONGEST_KEY_BYTES)} fits every valid name and tag`,
      ),
      "the README gives the same minimum",
    );
  });

  test("minBucketSize: nginx's element size of a key plus a pointer", () => {
    const cases = [
      { name: "empty key", key: 0, want: 24 },
      { name: "6 bytes: 8 with the length", key: 6, want: 24 },
      { name: "7 bytes: one more word", key: 7, want: 32 },
      { name: "a name@digest key", key: "library/alpine@".length + 64, want: 8 + 88 + 8 },
      { name: "the longest valid key", key: LONGEST_KEY_BYTES, want: 408 },
    ];
    for (const c of cases) assert.equal(minBucketSize(c.key), c.want, c.name);
  });
});
