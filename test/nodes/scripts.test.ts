/**
 * The node step scripts, run for real under sh: delivery (incremental,
 * atomic switch, pruning), and the containerd wiring in a private mount
 * namespace whose /etc/containerd is a fresh tmpfs (so this machine's is never
 * touched). The e2e test runs the same texts over SSH on simulated nodes.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, it, type TestContext } from "node:test";
import { parseHave, planDelivery, stageMissing } from "../../src/nodes/delivery";
import {
  deliverScript,
  prepareScript,
  storeDir,
  undeliverScript,
  unwireScript,
  wireScript,
} from "../../src/nodes/scripts";
import { inCI, tmpDir } from "../support/tools";

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
function scratch(prefix: string): string {
  const d = tmpDir(prefix);
  dirs.push(d);
  return d;
}

const hexOf = (s: string) => createHash("sha256").update(s).digest("hex");

/** A small images tree: `files` maps relative paths to contents; blobs are named by their digest. */
function writeTree(root: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), content);
  }
}

function blobFiles(repo: string, ...contents: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of contents) out[`${repo}/${hexOf(c)}`] = c;
  out[`${repo}/manifest.json`] = JSON.stringify({ layers: contents.map(hexOf) });
  out[`${repo}/version`] = "Directory Transport Version: 1.1\n";
  return out;
}

function sh(script: string) {
  return spawnSync("sh", ["-c", script], { encoding: "utf8" });
}

/** Runs the prepare / copy / deliver sequence as the component orders it; the copy is a plain `cp -r`. */
function deliver(imagesDir: string, hostPath: string, node = "node-a") {
  const plan = planDelivery(imagesDir);
  const prep = sh(prepareScript({ node, hostPath, setId: plan.setId }));
  assert.equal(prep.status, 0, prep.stderr);
  const staged = stageMissing(plan, parseHave(prep.stdout), scratch("stage"), node);
  fs.cpSync(staged.dir, path.join(storeDir(hostPath), "incoming", path.basename(staged.dir)), {
    recursive: true,
  });
  const r = sh(deliverScript({ node, hostPath, setId: plan.setId }));
  return { plan, staged, r };
}

function treeOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const d of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) walk(r);
      else out[r] = fs.readFileSync(path.join(dir, r), "utf8");
    }
  };
  walk("");
  return out;
}

describe("delivery scripts", () => {
  it("deliver only what is missing, switch the symlink, keep the previous set, prune older ones", () => {
    const base = scratch("deliver");
    const hostPath = path.join(base, "node", "images");
    const src1 = path.join(base, "src1");
    const v1 = { ...blobFiles("library/a/1", "layer-a", "shared"), ...blobFiles("library/b/1", "layer-b") };
    writeTree(src1, v1);

    const first = deliver(src1, hostPath);
    assert.equal(first.r.status, 0, first.r.stderr);
    assert.match(
      first.r.stdout,
      /static-container-registry: node node-a: .*images -> sets\/[0-9a-f]{64} \(7 files\)/,
    );
    assert.equal(first.staged.missing.length, 6, "every distinct content once (two identical version files)");
    assert.equal(fs.readlinkSync(hostPath), `images.store/sets/${first.plan.setId}`);
    assert.deepEqual(treeOf(hostPath), v1);

    // Second content: one new blob, one dropped tag.
    const src2 = path.join(base, "src2");
    const v2 = {
      ...blobFiles("library/a/1", "layer-a", "shared"),
      ...blobFiles("library/a/2", "shared", "new"),
    };
    writeTree(src2, v2);
    const second = deliver(src2, hostPath);
    assert.equal(second.r.status, 0, second.r.stderr);
    assert.deepEqual(
      second.staged.missing.sort(),
      [hexOf("new"), hexOf(v2["library/a/2/manifest.json"])].sort(),
      "only the new blob and the new manifest are copied",
    );
    assert.deepEqual(treeOf(hostPath), v2);
    const sets = path.join(storeDir(hostPath), "sets");
    assert.deepEqual(fs.readdirSync(sets).sort(), [first.plan.setId, second.plan.setId].sort());
    // A pod that mounted the first set still sees it whole.
    assert.deepEqual(treeOf(path.join(sets, first.plan.setId)), v1);

    const src3 = path.join(base, "src3");
    writeTree(src3, blobFiles("library/c/1", "only-c"));
    const third = deliver(src3, hostPath);
    assert.equal(third.r.status, 0, third.r.stderr);
    assert.deepEqual(fs.readdirSync(sets).sort(), [second.plan.setId, third.plan.setId].sort());
    const objects = fs.readdirSync(path.join(storeDir(hostPath), "objects"));
    assert.ok(!objects.includes(hexOf("layer-b")), "an object only the pruned set used is removed");
    assert.ok(objects.includes(hexOf("new")), "objects of the previous set stay");
    assert.deepEqual(fs.readdirSync(path.join(storeDir(hostPath), "incoming")), []);

    const again = deliver(src3, hostPath);
    assert.equal(again.staged.missing.length, 0, "nothing to copy for content the node holds");
    assert.equal(again.r.status, 0, again.r.stderr);

    const gone = sh(undeliverScript({ node: "node-a", hostPath }));
    assert.equal(gone.status, 0, gone.stderr);
    assert.deepEqual(fs.readdirSync(path.dirname(hostPath)), []);
  });

  it("refuses a corrupt copy and a hostPath that is not its symlink, naming the node", () => {
    const base = scratch("deliver-bad");
    const src = path.join(base, "src");
    writeTree(src, blobFiles("r/1", "x"));
    const hostPath = path.join(base, "node", "images");
    const plan = planDelivery(src);
    const prep = sh(prepareScript({ node: "node-b", hostPath, setId: plan.setId }));
    const staged = stageMissing(plan, parseHave(prep.stdout), scratch("stage"), "node-b");
    const incoming = path.join(storeDir(hostPath), "incoming", plan.setId);
    fs.cpSync(staged.dir, incoming, { recursive: true });
    fs.writeFileSync(path.join(incoming, "objects", hexOf("x")), "y");
    const r = sh(deliverScript({ node: "node-b", hostPath, setId: plan.setId }));
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, new RegExp(`node node-b: the copy of ${hexOf("x")} is corrupt`));
    assert.equal(fs.existsSync(hostPath), false, "nothing switched");

    const other = path.join(base, "node2", "images");
    fs.mkdirSync(other, { recursive: true });
    const p = sh(prepareScript({ node: "node-c", hostPath: other, setId: plan.setId }));
    assert.notEqual(p.status, 0);
    assert.match(
      p.stderr,
      /node node-c: .*images exists and is not the symlink static-container-registry manages/,
    );
  });
});

/**
 * Runs `script` in a private mount namespace with a fresh /etc/containerd
 * holding `config` (if any) and `files`; returns the result and what
 * /etc/containerd then holds.
 */
function inPrivateEtc(
  t: TestContext,
  script: string,
  config: string | undefined,
  files: Record<string, string>,
) {
  if (process.getuid?.() !== 0) {
    const msg = "wiring tests need root (a private mount namespace over /etc/containerd)";
    if (inCI) throw new Error(msg);
    t.skip(msg);
    return undefined;
  }
  const work = scratch("wire");
  const seed = path.join(work, "seed");
  fs.mkdirSync(seed);
  writeTree(seed, { ...(config !== undefined ? { "config.toml": config } : {}), ...files });
  fs.writeFileSync(path.join(work, "script.sh"), script);
  const out = path.join(work, "out");
  const r = spawnSync(
    "unshare",
    [
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      `mkdir -p /etc/containerd && mount -t tmpfs tmpfs /etc/containerd && cp -a "$1"/. /etc/containerd/ &&
       sh "$2"; s=$?; cp -a /etc/containerd/. "$3"/; exit $s`,
      "sh",
      seed,
      path.join(work, "script.sh"),
      out,
    ],
    { encoding: "utf8" },
  );
  fs.mkdirSync(out, { recursive: true });
  return { r, etc: out };
}

const CONFIG_V2 = `version = 2
[plugins."io.containerd.grpc.v1.cri".registry]
  config_path = "/etc/containerd/certs.d"
`;

describe("wiring scripts", () => {
  const hostsTomls = {
    "docker.io": 'server = "https://registry-1.docker.io"\n# Generated by static-container-registry\n',
    "quay.io": 'server = "https://quay.io"\n# Generated by static-container-registry\n',
  };
  const before = 'server = "https://quay.io"\n[host."https://corp-mirror.example"]\n';

  it("writes every hosts.toml, keeps a pre-existing one aside, and the delete restores it", (t) => {
    const wired = inPrivateEtc(t, wireScript({ node: "n1", hostsTomls }), CONFIG_V2, {
      "certs.d/quay.io/hosts.toml": before,
    });
    if (!wired) return;
    assert.equal(wired.r.status, 0, wired.r.stderr);
    const etc = treeOf(wired.etc);
    assert.equal(etc["certs.d/docker.io/hosts.toml"], hostsTomls["docker.io"]);
    assert.equal(etc["certs.d/quay.io/hosts.toml"], hostsTomls["quay.io"]);
    assert.equal(etc["certs.d/quay.io/hosts.toml.before-static-container-registry"], before);

    // Wiring twice keeps the original backup (ours is never backed up).
    const twice = inPrivateEtc(
      t,
      wireScript({ node: "n1", hostsTomls }) + unwireScript({ node: "n1", hostsTomls }),
      undefined,
      {
        ...Object.fromEntries(Object.entries(etc)),
      },
    )!;
    assert.equal(twice.r.status, 0, twice.r.stderr);
    assert.deepEqual(treeOf(twice.etc), { "config.toml": CONFIG_V2, "certs.d/quay.io/hosts.toml": before });
    assert.deepEqual(
      fs.readdirSync(path.join(twice.etc, "certs.d")),
      ["quay.io"],
      "the docker.io dir it made is gone",
    );
  });

  it("uses the first entry of config_path, and containerd 2's default when the v3 config leaves it unset", (t) => {
    const custom = inPrivateEtc(
      t,
      wireScript({ node: "n1", hostsTomls }),
      `version = 2\n[plugins.'io.containerd.grpc.v1.cri'.registry]\n  config_path = '/etc/containerd/hosts:/etc/docker/certs.d' # two dirs\n`,
      {},
    );
    if (!custom) return;
    assert.equal(custom.r.status, 0, custom.r.stderr);
    assert.ok(fs.existsSync(path.join(custom.etc, "hosts/docker.io/hosts.toml")));
    const v3 = inPrivateEtc(t, wireScript({ node: "n1", hostsTomls }), "version = 3\n", {})!;
    assert.equal(v3.r.status, 0, v3.r.stderr);
    assert.ok(fs.existsSync(path.join(v3.etc, "certs.d/quay.io/hosts.toml")));
  });

  const refused: { description: string; config: string | undefined }[] = [
    {
      description: "no config_path",
      config: 'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  mirrors = {}\n',
    },
    {
      description: "an empty config_path",
      config: `version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = ""\n`,
    },
    { description: "no config.toml", config: undefined },
  ];
  for (const c of refused) {
    it(`fails with the node and the one-line fix for ${c.description}, writing nothing`, (t) => {
      const w = inPrivateEtc(t, wireScript({ node: "worker-7", hostsTomls }), c.config, {});
      if (!w) return;
      assert.notEqual(w.r.status, 0);
      assert.match(
        w.r.stderr,
        /static-container-registry: node worker-7: containerd's CRI registry config_path is not set in \/etc\/containerd\/config.toml.*Fix: add  config_path = "\/etc\/containerd\/certs.d"  under  \[plugins."io.containerd.grpc.v1.cri".registry\]/,
      );
      assert.equal(fs.existsSync(path.join(w.etc, "certs.d")), false);
    });
  }

  it("refuses a host name that is not one", () => {
    assert.throws(
      () => wireScript({ node: "n", hostsTomls: { "a b": "" } }),
      /"a b" is not a registry host name/,
    );
  });
});
