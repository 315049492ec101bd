/**
 * `generate --into DIR` and `generate --shared --into DIR` as a user runs
 * them (the CLI in a child process), without nginx: which files each writes,
 * that re-running a root replaces its files and no other root's, that a
 * repository two roots would serve is refused before anything is written,
 * that runs at once all end up in the catalog, and that the shared parts
 * (and the old --only-constants, --js) read no images root.
 * (Served by real nginx: test/e2e/compose.test.ts.)
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import { settle } from "../../src/cli/compose";
import { blob, configBlob, imageManifest, writeTagDir } from "../inventory/tree";
import { runAny, tmpDir } from "../support/tools";
import { fileStates } from "../support/trees";

const BIN = path.resolve(__dirname, "../../../bin/static-container-registry.js");
const cli = (args: string[], cwd?: string) => runAny(process.execPath, [BIN, ...args], { cwd });

/** An images root holding `repos`, each with tag 1.0. */
function tree(repos: string[], seed = repos.join(",")): string {
  const root = tmpDir("compose-root");
  const cfg = configBlob();
  const l = blob(`layer of ${seed}`);
  for (const r of repos) writeTagDir(root, r, "1.0", imageManifest(cfg, [l]), [cfg, l]);
  return root;
}

/** The repositories in catalog.lists, in its order. */
function catalog(dir: string): string[] {
  const text = fs.readFileSync(path.join(dir, "catalog.lists"), "utf8");
  return [...text.matchAll(/^\|c\|\d+ '(.*)';$/gm)].flatMap((m) => JSON.parse(`[${m[1]}]`) as string[]);
}

describe("generate --into", () => {
  test("--shared writes the shared parts and an empty catalog; each root adds its three files", () => {
    const dir = path.join(tmpDir("compose"), "parts");
    const shared = cli(["generate", "--shared", "--into", dir]);
    assert.equal(shared.status, 0, shared.stderr);
    assert.deepEqual([...fileStates(dir).keys()].sort(), [
      "catalog.lists",
      "http.conf",
      "server.conf",
      "static-container-registry-ui.html",
      "static-container-registry.js",
    ]);
    assert.deepEqual(catalog(dir), []);
    assert.match(shared.stderr, /load_module \/\S+\/ngx_http_js_module\.so;/, "the module's absolute path");
    assert.match(shared.stderr, new RegExp(`include ${dir}/http\\.conf;`));
    const base = cli(["generate", tree(["app", "lib/x"]), "--into", dir, "--name-prefix", "base"]);
    assert.equal(base.status, 0, base.stderr);
    assert.match(base.stderr, /added root base: 2 repositories as base\/…/);
    const extra = cli(["generate", tree(["app", "tool"]), "--into", dir, "--name-prefix", "extra/sub"]);
    assert.equal(extra.status, 0, extra.stderr);
    assert.deepEqual(
      [...fileStates(dir).keys()].filter((f) => f.startsWith("roots/")).sort(),
      ["base.json", "base.lists", "base.map", "extra+sub.json", "extra+sub.lists", "extra+sub.map"].map(
        (f) => `roots/${f}`,
      ),
    );
    assert.deepEqual(catalog(dir), ["base/app", "base/lib/x", "extra/sub/app", "extra/sub/tool"]);
    // Files nginx reads from elsewhere (a ConfigMap mount): that place goes into http.conf.
    const elsewhere = cli(["generate", "--shared", "--into", dir, "--config-dir", "/etc/registry/parts"]);
    assert.equal(elsewhere.status, 0, elsewhere.stderr);
    const http = fs.readFileSync(path.join(dir, "http.conf"), "utf8");
    assert.match(http, /^ {4}include \/etc\/registry\/parts\/roots\/\*\.map;$/m);
    assert.match(http, /^js_import scr from \/etc\/registry\/parts\/static-container-registry\.js;$/m);
    assert.doesNotMatch(http, new RegExp(dir));
  });

  test("re-running a root replaces its files only; the catalog follows", () => {
    const dir = tmpDir("compose");
    const rootA = tree(["a1", "a2"]);
    assert.equal(cli(["generate", rootA, "--into", dir, "--name-prefix", "a"]).status, 0);
    assert.equal(cli(["generate", tree(["b1"]), "--into", dir, "--name-prefix", "b"]).status, 0);
    assert.equal(cli(["generate", "--shared", "--into", dir]).status, 0);
    const before = fileStates(dir);
    // Root a changes: a2 goes, a3 comes.
    fs.rmSync(path.join(rootA, "a2"), { recursive: true });
    const cfg = configBlob();
    const l = blob("a3");
    writeTagDir(rootA, "a3", "2.0", imageManifest(cfg, [l]), [cfg, l]);
    const again = cli(["generate", rootA, "--into", dir, "--name-prefix", "a"]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /replaced root a: 2 repositories/);
    const after = fileStates(dir);
    const changed = [...after.keys()].filter((f) => after.get(f)!.text !== before.get(f)?.text).sort();
    assert.deepEqual(changed, ["catalog.lists", "roots/a.json", "roots/a.lists", "roots/a.map"]);
    for (const f of ["roots/b.map", "roots/b.lists", "roots/b.json", "http.conf", "server.conf"])
      assert.equal(after.get(f)!.ino, before.get(f)!.ino, `${f} untouched`);
    assert.deepEqual(catalog(dir), ["a/a1", "a/a3", "b/b1"]);
    assert.match(after.get("roots/a.map")!.text, /^a\/a3:2\.0 /m);
    assert.doesNotMatch(after.get("roots/a.map")!.text, /a\/a2/);
    assert.deepEqual(
      fs.readdirSync(dir, { recursive: true }).filter((f) => String(f).includes(".tmp-")),
      [],
      "no temp files left",
    );
  });

  test("a repository two roots would serve is refused, naming both; nothing is written", () => {
    const dir = tmpDir("compose");
    const first = tree(["docker.io/library/alpine", "quay.io/org/app"]);
    const r1 = cli(["generate", first, "--into", dir, "--root-name", "first"]);
    assert.equal(r1.status, 0, r1.stderr);
    const before = fileStates(dir);
    const second = tree(["docker.io/library/alpine", "ghcr.io/x/y"]);
    const r2 = cli(["generate", second, "--into", dir, "--root-name", "second"]);
    assert.equal(r2.status, 2);
    assert.match(r2.stderr, /root second: 1 repository is in two roots/);
    assert.match(
      r2.stderr,
      new RegExp(`docker\\.io/library/alpine: root first \\(${first}\\) and root second \\(${second}\\)`),
    );
    assert.match(r2.stderr, /Nothing was written/);
    assert.deepEqual(fileStates(dir), before);
    // With a prefix it is another repository.
    const r3 = cli(["generate", second, "--into", dir, "--name-prefix", "second"]);
    assert.equal(r3.status, 0, r3.stderr);
    assert.deepEqual(catalog(dir), [
      "docker.io/library/alpine",
      "quay.io/org/app",
      "second/docker.io/library/alpine",
      "second/ghcr.io/x/y",
    ]);
  });

  test("settle: the catalog is written again until the records it came from are still those on disk", () => {
    // Another run's record lands on disk right after read number `landsAfterRead` (0: never).
    const cases: { name: string; landsAfterRead: number[]; wantWrites: number; seesAll: boolean }[] = [
      { name: "nobody else writes", landsAfterRead: [], wantWrites: 1, seesAll: true },
      {
        name: "a record lands between the read and the write",
        landsAfterRead: [1],
        wantWrites: 2,
        seesAll: true,
      },
      { name: "two land, one after the other", landsAfterRead: [1, 3], wantWrites: 3, seesAll: true },
      // Its own run writes the catalog after this one's check, so this one may stop.
      { name: "one lands after the check", landsAfterRead: [2], wantWrites: 1, seesAll: false },
    ];
    for (const c of cases) {
      const disk = new Map([["roots/a.json", "a"]]);
      let reads = 0;
      const writes: string[][] = [];
      const out = settle(
        () => {
          const copy = new Map(disk);
          reads++;
          c.landsAfterRead.forEach((n, i) => n === reads && disk.set(`roots/other${i}.json`, `other${i}`));
          return copy;
        },
        (inputs) => {
          writes.push([...inputs.values()]);
          return [...inputs.values()];
        },
      );
      assert.equal(writes.length, c.wantWrites, c.name);
      if (c.seesAll)
        assert.deepEqual(out, [...disk.values()], `${c.name}: the last write has every record on disk`);
    }
    let n = 0;
    assert.throws(
      () =>
        settle(
          () => new Map([["x", String(n++)]]),
          () => undefined,
        ),
      "gives up when the inputs never stop changing",
    );
  });

  test("runs at once into one directory: every root ends up in the catalog", async () => {
    const dir = tmpDir("compose");
    const roots = Array.from({ length: 6 }, (_, i) => tree([`repo${i}/a`, `repo${i}/b`], `r${i}`));
    const runs = roots.map(
      (r, i) =>
        new Promise<{ code: number | null; err: string }>((resolve) => {
          const c = spawn(process.execPath, [BIN, "generate", r, "--into", dir, "--name-prefix", `p${i}`], {
            stdio: ["ignore", "ignore", "pipe"],
          });
          let err = "";
          c.stderr.on("data", (d: Buffer) => (err += d.toString()));
          c.on("close", (code) => resolve({ code, err }));
        }),
    );
    runs.push(
      new Promise((resolve) => {
        const c = spawn(process.execPath, [BIN, "generate", "--shared", "--into", dir], { stdio: "ignore" });
        c.on("close", (code) => resolve({ code, err: "" }));
      }),
    );
    for (const r of await Promise.all(runs)) assert.equal(r.code, 0, r.err);
    assert.deepEqual(
      catalog(dir),
      roots.flatMap((_, i) => [`p${i}/repo${i}/a`, `p${i}/repo${i}/b`]),
    );
  });

  test("what does not belong together is refused, before anything is written", () => {
    const root = tree(["app"]);
    const dir = path.join(tmpDir("compose"), "parts");
    const cases: { name: string; args: string[]; error: RegExp }[] = [
      {
        name: "--shared with a ROOT",
        args: ["generate", root, "--shared", "--into", dir],
        error: /--shared takes no ROOT/,
      },
      {
        name: "--shared without --into",
        args: ["generate", "--shared"],
        error: /--shared goes with --into DIR/,
      },
      {
        name: "--shared with a root's flags",
        args: ["generate", "--shared", "--into", dir, "--name-prefix", "x", "--root-name", "y"],
        error: /--shared writes no root's parts: --name-prefix, --root-name go with ROOT --into/,
      },
      {
        name: "--into without ROOT",
        args: ["generate", "--into", dir],
        error: /generate --into DIR needs ROOT/,
      },
      {
        name: "--into with the single-file forms' flags",
        args: ["generate", root, "--into", dir, "--http", "-o", "/tmp/x"],
        error: /--into writes every part of the composition itself: --http, --output belong/,
      },
      {
        name: "a root without a name",
        args: ["generate", root, "--into", dir],
        error: /needs a root name \(--root-name NAME\)/,
      },
      {
        name: "a directory nginx cannot include from",
        args: ["generate", "--shared", "--into", path.join(tmpDir("compose"), "it's")],
        error: /must not contain \* \? \[ \] quotes or backslashes/,
      },
    ];
    for (const c of cases) {
      const r = cli(c.args);
      assert.equal(r.status, 2, `${c.name}: ${r.stderr}`);
      assert.match(r.stderr, c.error, c.name);
    }
    assert.equal(fs.existsSync(dir), false, "nothing was written");
  });

  test("a root record that cannot be read is named; nothing is written", () => {
    const dir = tmpDir("compose");
    fs.mkdirSync(path.join(dir, "roots"));
    fs.writeFileSync(path.join(dir, "roots", "old.json"), "{}");
    const r = cli(["generate", tree(["app"]), "--into", dir, "--name-prefix", "x"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /1 root record\(s\) in \S+\/roots cannot be read/);
    assert.match(r.stderr, /roots\/old\.json: not a root record of static-container-registry/);
    assert.deepEqual(fs.readdirSync(path.join(dir, "roots")), ["old.json"]);
  });

  test("the shared parts read no images root: --shared, --only-constants and --js in an empty directory", () => {
    const empty = tmpDir("compose-empty");
    for (const args of [
      ["generate", "--shared", "--into", path.join(empty, "parts")],
      ["generate", "--only-constants"],
      ["generate", "--only-constants", "--http"],
      ["generate", "/nonexistent/images", "--only-constants", "--http"],
      ["generate", "--js"],
    ]) {
      const r = cli(args, empty);
      assert.equal(r.status, 0, `${args.join(" ")}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /warning|does not exist/, args.join(" "));
    }
    const http = cli(["generate", "--only-constants", "--http", "--no-map-hash-sizes"], empty);
    assert.doesNotMatch(http.stdout, /^map_hash/m);
    assert.match(http.stdout, /left to the http \{\} around/);
    // A root's data still needs its root.
    const data = cli(["generate", "--omit-constants", "--http"], empty);
    assert.match(data.stderr, /warning: .*no images/i);
  });
});
