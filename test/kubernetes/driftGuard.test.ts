/**
 * The drift guard script, run for real: with dash + coreutils (Debian-based
 * nginx images) and with busybox alone on PATH (alpine-based images).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, test, type TestContext } from "node:test";
import { scan } from "../../src/inventory";
import type { Inventory } from "../../src/inventory/model";
import { renderDriftGuard, DRIFT_GUARD_SCRIPT } from "../../src/kubernetes/driftGuard";
import { hex as sha, writeMixedTree } from "../inventory/tree";
import { scriptShells } from "../support/scriptShells";
import { requireRoot, runAny, tmpDir, which } from "../support/tools";
import { inTwoOrders } from "../support/trees";

/** Where the guard is told the images and its lists are (the tests pass both on the command line). */
const OPTS = { imagesRoot: "/srv/images", configDir: "/etc/scr", maxFileBytes: 100000 };

/** What the drift guard may call: all an image must have (busybox gets exactly these). */
const GUARD_TOOLS = [
  "sh",
  "sha256sum",
  "stat",
  "wc",
  "tr",
  "id",
  "sed",
  "grep",
  "sort",
  "uniq",
  "cut",
  "xargs",
  "head",
];

/** A small tree and the Inventory describing it: one tagged image, one index with a child. */
function makeTree(): { root: string; inv: Inventory; paths: Record<string, string> } {
  const root = path.join(tmpDir("k8s-guard"), "images");
  const write = (rel: string, content: Buffer | string) => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), content);
    return rel;
  };
  const layer = Buffer.alloc(4096, 7);
  const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
  const lh = sha(layer);
  const ch = sha(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: `sha256:${ch}`,
        size: config.length,
      },
      layers: [
        {
          mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
          digest: `sha256:${lh}`,
          size: layer.length,
        },
      ],
    }),
  );
  const mh = sha(manifest);
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: `sha256:${mh}`,
          size: manifest.length,
        },
      ],
    }),
  );
  const ih = sha(index);
  const paths = {
    manifest: write("library/alpine/3.19/manifest.json", manifest),
    layer: write(`library/alpine/3.19/${lh}`, layer),
    config: write(`library/alpine/3.19/${ch}`, config),
    index: write("multi/1.0/manifest.json", index),
    child: write(`multi/1.0/${mh}.manifest.json`, manifest),
  };
  const inv: Inventory = {
    root,
    repositories: [
      {
        name: "library/alpine",
        tags: [{ name: "3.19", digest: `sha256:${mh}`, source: paths.manifest }],
        manifests: [`sha256:${mh}`],
        blobs: [`sha256:${ch}`, `sha256:${lh}`].sort(),
      },
      {
        name: "multi",
        tags: [{ name: "1.0", digest: `sha256:${ih}`, source: paths.index }],
        manifests: [`sha256:${ih}`, `sha256:${mh}`].sort(),
        blobs: [`sha256:${ch}`, `sha256:${lh}`].sort(),
      },
    ],
    manifests: {
      [`sha256:${mh}`]: {
        digest: `sha256:${mh}`,
        size: manifest.length,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        kind: "image",
        path: paths.manifest,
        children: [],
        blobs: [`sha256:${ch}`, `sha256:${lh}`],
      },
      [`sha256:${ih}`]: {
        digest: `sha256:${ih}`,
        size: index.length,
        mediaType: "application/vnd.oci.image.index.v1+json",
        kind: "index",
        path: paths.index,
        children: [`sha256:${mh}`],
        blobs: [],
      },
    },
    blobs: {
      [`sha256:${lh}`]: { digest: `sha256:${lh}`, size: layer.length, path: paths.layer },
      [`sha256:${ch}`]: { digest: `sha256:${ch}`, size: config.length, path: paths.config },
    },
    problems: [],
  };
  return { root, inv, paths };
}

/** Writes the rendered files into a config dir. */
function writeConfig(files: Record<string, string>): string {
  const dir = tmpDir("k8s-guard-config");
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
  return dir;
}

/** argv, run as `uid` when one is given (setpriv, util-linux; needs root), as the pod's runAsUser would. */
function asUser(argv: string[], uid?: number): [string, string[]] {
  if (uid === undefined) return [argv[0], argv.slice(1)];
  return [
    which("setpriv") ?? "setpriv",
    [`--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "--", ...argv],
  ];
}

for (const shell of scriptShells(GUARD_TOOLS)) {
  describe(`drift guard under ${shell.name}`, () => {
    /** The guard under this shell, for test `t`; undefined when the shell is missing (skipped, or failed in CI). */
    const guard = (t: TestContext) => {
      const s = shell.prepare(t);
      if (!s) return undefined;
      return (script: string, args: string[], uid?: number) =>
        runAny(...asUser([s.sh, script, ...args], uid), { env: { PATH: s.path } });
    };

    test("passes on the tree it was rendered from", (t) => {
      const run = guard(t);
      if (!run) return;
      const { root, inv } = makeTree();
      const g = renderDriftGuard(inv, OPTS);
      assert.equal(g.main, DRIFT_GUARD_SCRIPT);
      assert.equal(g.manifests, 2);
      assert.equal(g.blobs, 2);
      const cfg = writeConfig(g.files);
      const r = run(path.join(cfg, g.main), [root, cfg]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(
        r.stderr,
        /drift-guard: OK: 2 manifests and 2 blobs \(\d+ bytes\) under .* match the registry config/,
      );
    });

    test("names a missing blob, a truncated blob and a changed manifest", (t) => {
      const run = guard(t);
      if (!run) return;
      const { root, inv, paths } = makeTree();
      const g = renderDriftGuard(inv, OPTS);
      const cfg = writeConfig(g.files);
      fs.rmSync(path.join(root, paths.layer));
      fs.writeFileSync(path.join(root, paths.config), "{}");
      fs.appendFileSync(path.join(root, paths.index), " ");
      const r = run(path.join(cfg, g.main), [root, cfg]);
      assert.equal(r.status, 1);
      const lh = paths.layer.split("/").pop();
      assert.match(
        r.stderr,
        new RegExp(
          `missing blob sha256:${lh} \\(4096 bytes\\) at ${paths.layer}, needed by library/alpine:3\\.19`,
        ),
      );
      assert.match(
        r.stderr,
        new RegExp(
          `different blob sha256:[a-f0-9]{64} at ${paths.config}: 2 bytes instead of \\d+, needed by library/alpine:3\\.19`,
        ),
      );
      assert.match(
        r.stderr,
        new RegExp(
          `different manifest sha256:[a-f0-9]{64} at ${paths.index}: its sha256 is [a-f0-9]{64}, needed by multi:1\\.0`,
        ),
      );
      assert.match(
        r.stderr,
        /FAILED: 3 problem\(s\): the images under .* are not the ones the registry config was generated from; not serving/,
      );
    });

    test("names the blob and the manifest the nginx user cannot read", (t) => {
      if (!requireRoot(t, "the drift guard must run as another user (setpriv) to find what it cannot read"))
        return;
      const run = guard(t);
      if (!run) return;
      const { root, inv, paths } = makeTree();
      const g = renderDriftGuard(inv, OPTS);
      const cfg = writeConfig(g.files);
      // Everything readable by all (as in a volume), then two files for root only.
      for (const d of [path.dirname(root), root, cfg]) runAny("chmod", ["-R", "a+rX", d]);
      fs.chmodSync(path.join(root, paths.layer), 0o600);
      fs.chmodSync(path.join(root, paths.index), 0o600);
      const nginxUid = 101; // the component's default runAsUser
      const r = run(path.join(cfg, g.main), [root, cfg], nginxUid);
      assert.equal(r.status, 1, r.stderr);
      const lh = paths.layer.split("/").pop();
      assert.match(
        r.stderr,
        new RegExp(
          `unreadable blob sha256:${lh} at ${paths.layer} \\(not a regular file readable by uid ${nginxUid}\\), needed by library/alpine:3\\.19`,
        ),
      );
      assert.match(
        r.stderr,
        new RegExp(`unreadable manifest sha256:[a-f0-9]{64} at ${paths.index} .*needed by multi:1\\.0`),
      );
      assert.match(r.stderr, /FAILED: 2 problem\(s\)/);
    });

    test("a missing images root or a missing list file fails", (t) => {
      const run = guard(t);
      if (!run) return;
      const { root, inv } = makeTree();
      const g = renderDriftGuard(inv, { ...OPTS, maxFileBytes: 200 });
      const lists = Object.keys(g.files).filter((f) => f.endsWith(".list"));
      assert.ok(lists.length >= 2, "small maxFileBytes splits the lists");
      for (const [name, content] of Object.entries(g.files))
        assert.ok(Buffer.byteLength(content) <= 200 || name === g.main);
      const cfg = writeConfig(g.files);
      const ok = run(path.join(cfg, g.main), [root, cfg]);
      assert.equal(ok.status, 0, ok.stderr);

      const none = run(path.join(cfg, g.main), [path.join(root, "nope"), cfg]);
      assert.equal(none.status, 1);
      assert.match(none.stderr, /images root .*nope is not a directory: is the images volume mounted\?/);

      fs.rmSync(path.join(cfg, lists[1]));
      const partial = run(path.join(cfg, g.main), [root, cfg]);
      assert.equal(partial.status, 1);
      assert.match(
        partial.stderr,
        new RegExp(`incomplete check lists in ${cfg}: ${lists.length - 1} of ${lists.length} files`),
      );
    });

    test("reports at most maxReported problems one by one", (t) => {
      const run = guard(t);
      if (!run) return;
      const { inv } = makeTree();
      const g = renderDriftGuard(inv, { ...OPTS, maxReported: 1 });
      const cfg = writeConfig(g.files);
      const empty = tmpDir("k8s-guard-empty");
      const r = run(path.join(cfg, g.main), [empty, cfg]);
      assert.equal(r.status, 1);
      assert.equal(r.stderr.match(/drift-guard: missing /g)?.length, 1);
      assert.match(r.stderr, /\.\.\. and 3 more/);
    });
  });
}

test("an image without one of the tools it needs fails loudly instead of passing", () => {
  const { root, inv } = makeTree();
  const g = renderDriftGuard(inv, OPTS);
  const cfg = writeConfig(g.files);
  // Every tool but sort, from the host.
  const bin = tmpDir("k8s-nosort");
  for (const tool of GUARD_TOOLS.filter((x) => x !== "sort"))
    fs.symlinkSync(which(tool)!, path.join(bin, tool));
  const r = runAny(path.join(bin, "sh"), [path.join(cfg, g.main), root, cfg], { env: { PATH: bin } });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /drift-guard: the image has no sort: the drift guard needs sh, sha256sum, stat/);
});

test("defaults baked into the script are the pod paths", () => {
  const { inv } = makeTree();
  const a = renderDriftGuard(inv, {
    imagesRoot: "/srv/static-container-registry",
    configDir: "/etc/static-container-registry",
    maxFileBytes: 100000,
  });
  assert.match(a.files[a.main], /^root=\$\{1:-'\/srv\/static-container-registry'\}$/m);
  assert.match(a.files[a.main], /^lists=\$\{2:-'\/etc\/static-container-registry'\}$/m);
});

test("the same tree, added in another order with other file times, renders the same guard byte for byte", async () => {
  const [a, b] = await inTwoOrders("guard-order", writeMixedTree, async (root) => {
    const g = renderDriftGuard(await scan(root), { ...OPTS, maxFileBytes: 1024 });
    assert.ok(Object.keys(g.files).length > 3, "the lists are split over several files");
    return JSON.stringify(g);
  });
  assert.equal(b, a);
});

test("refuses inventory paths it cannot put on a list line", () => {
  const { inv } = makeTree();
  const d = Object.keys(inv.blobs)[0];
  inv.blobs[d].path = "evil dir/x";
  assert.throws(
    () => renderDriftGuard(inv, { imagesRoot: "/srv", configDir: "/etc/x", maxFileBytes: 100000 }),
    /cannot check "evil dir\/x"/,
  );
});
