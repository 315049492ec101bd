/**
 * scan against trees a hostile tester (or an unlucky copy) makes: special
 * files where files belong, oversized manifests, a skopeo tag hidden inside an
 * OCI layout, symlink loops, names that are not UTF-8, and trees that hold
 * nothing at all. Each must end in a problem (or a warning) naming the path,
 * never in a hang, a crash, or silence.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import { MAX_MANIFEST_BYTES, scan, type Inventory } from "../../src/inventory";
import { requireRoot, tmpDir } from "../support/tools";
import { blob, configBlob, dig, hex, imageManifest, writeLayout, writeTagDir } from "./tree";

const lines = (list: { file: string; message: string }[] | undefined) =>
  (list ?? []).map((p) => `${p.file}: ${p.message}`);
const problems = (inv: Inventory) => lines(inv.problems);
const warnings = (inv: Inventory) => lines(inv.warnings);

function expectOne(got: string[], re: RegExp) {
  assert.equal(got.filter((m) => re.test(m)).length, 1, `expected ${re} once in:\n${got.join("\n")}`);
}

/** A tree with one good image (so the special file is the only fault). */
function goodTree() {
  const root = tmpDir("hostile");
  const cfg = configBlob();
  const l = blob("layer");
  const m = imageManifest(cfg, [l]);
  const dir = writeTagDir(root, "ok/app", "1", m, [cfg, l]);
  return { root, cfg, l, m, dir };
}

const mkfifo = (p: string) => execFileSync("mkfifo", [p]);

/** How long a scan of these small trees may take before it counts as hung. */
const SCAN_TIMEOUT_MS = 30_000;

/**
 * scan in a child process (scanChild.js), killed after SCAN_TIMEOUT_MS. A scan
 * that opened a FIFO would block in open(2) for ever; in this process that
 * would block the event loop too, so no test timeout could fire: the run
 * would hang instead of failing.
 */
function scanBounded(root: string): Inventory {
  const r = spawnSync(process.execPath, [path.join(__dirname, "scanChild.js"), root], {
    encoding: "utf8",
    timeout: SCAN_TIMEOUT_MS,
    killSignal: "SIGKILL",
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(r.signal, null, `the scan did not finish within ${SCAN_TIMEOUT_MS} ms: it hung\n${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Inventory;
}

describe("special files are never opened", () => {
  const cases: { description: string; make: (root: string) => string; want: RegExp }[] = [
    {
      description: "a FIFO as a tag's manifest.json",
      make: (root) => {
        const dir = path.join(root, "fifo/app/1");
        fs.mkdirSync(dir, { recursive: true });
        mkfifo(path.join(dir, "manifest.json"));
        return "fifo/app/1/manifest.json";
      },
      want: /is a FIFO, not a regular file/,
    },
    {
      description: "a FIFO as a layout's index.json",
      make: (root) => {
        const dir = path.join(root, "fifo/layout");
        fs.mkdirSync(path.join(dir, "blobs/sha256"), { recursive: true });
        fs.writeFileSync(path.join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
        mkfifo(path.join(dir, "index.json"));
        return "fifo/layout/index.json";
      },
      want: /is a FIFO, not a regular file/,
    },
    {
      description: "a FIFO as a layout's oci-layout",
      make: (root) => {
        const dir = path.join(root, "fifo/marker");
        fs.mkdirSync(path.join(dir, "blobs/sha256"), { recursive: true });
        mkfifo(path.join(dir, "oci-layout"));
        fs.writeFileSync(path.join(dir, "index.json"), '{"schemaVersion":2,"manifests":[]}');
        return "fifo/marker/oci-layout";
      },
      want: /is a FIFO, not a regular file/,
    },
    {
      description: "a FIFO as a child manifest",
      make: (root) => {
        const dir = path.join(root, "fifo/child/1");
        fs.mkdirSync(dir, { recursive: true });
        const child = imageManifest(configBlob(), []);
        fs.writeFileSync(
          path.join(dir, "manifest.json"),
          JSON.stringify({
            schemaVersion: 2,
            mediaType: "application/vnd.oci.image.index.v1+json",
            manifests: [
              {
                mediaType: "application/vnd.oci.image.manifest.v1+json",
                digest: dig(child),
                size: child.length,
              },
            ],
          }),
        );
        mkfifo(path.join(dir, `${hex(child)}.manifest.json`));
        return `fifo/child/1/${hex(child)}.manifest.json`;
      },
      want: /is a FIFO, not a regular file/,
    },
    {
      description: "a FIFO named as a blob, the only copy",
      make: (root) => {
        const cfg = configBlob("s390x");
        const l = blob("fifo layer");
        const dir = writeTagDir(root, "fifo/blob", "1", imageManifest(cfg, [l]), [cfg]);
        mkfifo(path.join(dir, hex(l.bytes)));
        return `fifo/blob/1/${hex(l.bytes)}`;
      },
      want: /is a FIFO, not a regular file/,
    },
    {
      description: "a directory named manifest.json",
      make: (root) => {
        fs.mkdirSync(path.join(root, "dir/app/1/manifest.json"), { recursive: true });
        return "dir/app/1/manifest.json";
      },
      want: /is a directory, not a regular file/,
    },
  ];
  for (const c of cases) {
    test(c.description, { timeout: 2 * SCAN_TIMEOUT_MS }, () => {
      const { root } = goodTree();
      const file = c.make(root);
      const inv = scanBounded(root);
      expectOne(
        problems(inv),
        new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: ${c.want.source}`),
      );
      assert.ok(
        inv.repositories.some((r) => r.name === "ok/app"),
        "the good image is still there",
      );
    });
  }

  test("a socket named as a blob is reported, not opened", async (t) => {
    const { root, cfg } = goodTree();
    const l = blob("socket layer");
    const dir = writeTagDir(root, "sock/blob", "1", imageManifest(cfg, [l]), [cfg]);
    // A Unix socket path must be short; bind it from a short cwd.
    const net = await import("node:net");
    const srv = net.createServer();
    const cwd = process.cwd();
    process.chdir(dir);
    await new Promise<void>((r) => srv.listen(hex(l.bytes), r));
    process.chdir(cwd);
    t.after(() => srv.close());
    const got = problems(await scan(root));
    expectOne(got, new RegExp(`^sock/blob/1/${hex(l.bytes)}: is a socket, not a regular file`));
  });

  test("a character device named as a manifest is reported, not opened", async (t) => {
    if (!requireRoot(t, "mknod needs root")) return;
    const { root } = goodTree();
    const dir = path.join(root, "dev/app/1");
    fs.mkdirSync(dir, { recursive: true });
    execFileSync("mknod", [path.join(dir, "manifest.json"), "c", "1", "3"]); // /dev/null's numbers
    expectOne(
      problems(await scan(root)),
      /^dev\/app\/1\/manifest\.json: is a character device, not a regular file/,
    );
  });
});

describe("limits and shadowing", () => {
  test(`a manifest over ${MAX_MANIFEST_BYTES} bytes is a problem stating the limit`, async () => {
    const { root, cfg, l } = goodTree();
    const big = imageManifest(cfg, [l], { annotations: { pad: "x".repeat(10 * 1024 * 1024) } });
    writeTagDir(root, "big/app", "1", big, [cfg, l]);
    const inv = await scan(root);
    expectOne(
      problems(inv),
      new RegExp(`^big/app/1/manifest\\.json: is ${big.length} bytes; clients refuse manifests over 4 MiB`),
    );
    assert.ok(!inv.repositories.some((r) => r.name === "big/app"), "it is not served");
  });

  test("a manifest of exactly 4 MiB is fine", async () => {
    const { root, cfg, l } = goodTree();
    const base = imageManifest(cfg, [l], { annotations: { pad: "" } }).length;
    const exact = imageManifest(cfg, [l], { annotations: { pad: "x".repeat(MAX_MANIFEST_BYTES - base) } });
    assert.equal(exact.length, MAX_MANIFEST_BYTES);
    writeTagDir(root, "exact/app", "1", exact, [cfg, l]);
    assert.deepEqual(problems(await scan(root)), []);
  });

  test("a skopeo dir: tag inside an OCI layout that tags the same name is a duplicate tag", async () => {
    const { root, cfg, l, m } = goodTree();
    const other = imageManifest(cfg, [], { annotations: { other: "1" } });
    writeLayout(root, "mixed/app", [{ manifest: other, ref: "1.0" }], [cfg]);
    writeTagDir(root, "mixed/app", "1.0", m, [cfg, l]);
    const inv = await scan(root);
    expectOne(
      problems(inv),
      /^mixed\/app\/index\.json: duplicate tag mixed\/app:1\.0, already defined by mixed\/app\/1\.0\/manifest\.json/,
    );
  });
});

describe("smaller defects", () => {
  test("a symbolic link loop is reported as a loop, not as dangling", async () => {
    const { root } = goodTree();
    fs.symlinkSync("b", path.join(root, "ok", "a"));
    fs.symlinkSync("a", path.join(root, "ok", "b"));
    const got = problems(await scan(root));
    expectOne(got, /^ok\/a: is a symbolic link loop/);
    assert.ok(!got.some((m) => /dangling/.test(m)), got.join("\n"));
  });

  test("a name that is not UTF-8 is reported as such, not as ENOENT", async () => {
    const { root } = goodTree();
    const bad = Buffer.concat([Buffer.from(path.join(root, "ok") + "/lat"), Buffer.from([0xe9, 0x31])]);
    fs.mkdirSync(bad);
    const got = problems(await scan(root));
    expectOne(got, /^ok\/lat\\xe9\x31: name is not valid UTF-8/);
    assert.ok(!got.some((m) => /ENOENT|\uFFFD/.test(m)), got.join("\n"));
  });

  test("a layout message names its file once", async () => {
    const { root, cfg } = goodTree();
    writeLayout(root, "layout/app", [{ manifest: imageManifest(cfg, []), ref: "not a tag!" }], [cfg]);
    const got = problems(await scan(root));
    expectOne(got, /^layout\/app\/index\.json: manifests\[0\]: ref\.name "not a tag!" is not a valid tag$/);
  });

  test("a tree with no images is a warning (a wrong ROOT is noticed), not a problem", async () => {
    const root = tmpDir("hostile");
    fs.mkdirSync(path.join(root, "nothing", "here"), { recursive: true });
    const inv = await scan(root);
    assert.deepEqual(problems(inv), []);
    expectOne(warnings(inv), /^\.: no images found/);
  });

  test("a tag directory without manifest.json is a warning naming it", async () => {
    const { root, cfg, l } = goodTree();
    const dir = writeTagDir(root, "half/app", "1", imageManifest(cfg, [l]), [cfg, l]);
    fs.unlinkSync(path.join(dir, "manifest.json"));
    const inv = await scan(root);
    assert.deepEqual(problems(inv), []);
    expectOne(
      warnings(inv),
      /^half\/app\/1: looks like a skopeo dir: tag directory but has no manifest\.json/,
    );
    assert.deepEqual(
      inv.repositories.map((r) => r.name),
      ["ok/app"],
    );
  });

  test("a clean tree has no warnings", async () => {
    const { root } = goodTree();
    assert.deepEqual(warnings(await scan(root)), []);
  });
});
