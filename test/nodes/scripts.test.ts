/**
 * The node step scripts, run for real under sh: delivery (incremental,
 * atomic switch, pruning), and the containerd wiring in a private mount
 * namespace whose /etc/containerd is a fresh tmpfs (so this machine's is never
 * touched). The e2e test runs the same texts over SSH on simulated nodes.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, it, type TestContext } from "node:test";
import { parse } from "yaml";
import { parseHave, planDelivery, stageMissing } from "../../src/nodes/delivery";
import { registriesYamlAll } from "../../src/nodes/wiring";
import {
  deliverScript,
  incomingDir,
  prepareScript,
  setDir,
  undeliverScript,
  unwireScript,
  wireScript,
} from "../../src/nodes/scripts";
import { hex } from "../inventory/tree";
import { inPrivateMounts, requireRoot, runAny, tmpDir } from "../support/tools";
import { treeText } from "../support/trees";

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
function scratch(prefix: string): string {
  const d = tmpDir(prefix);
  dirs.push(d);
  return d;
}

/** A small images tree: `files` maps relative paths to contents; blobs are named by their digest. */
function writeTree(root: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), content);
  }
}

function blobFiles(repo: string, ...contents: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of contents) out[`${repo}/${hex(c)}`] = c;
  out[`${repo}/manifest.json`] = JSON.stringify({ layers: contents.map((c) => hex(c)) });
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
  fs.cpSync(staged.dir, path.join(incomingDir(hostPath), path.basename(staged.dir)), {
    recursive: true,
  });
  const r = sh(deliverScript({ node, hostPath, setId: plan.setId }));
  return { plan, staged, r, prep };
}

/** The entries of a directory, sorted. */
const ls = (dir: string) => fs.readdirSync(dir).sort();

describe("delivery scripts", () => {
  it("deliver only what is missing into P, point current at it, keep the previous set, prune older ones", () => {
    const base = scratch("deliver");
    const hostPath = path.join(base, "node", "images");
    const src1 = path.join(base, "src1");
    const v1 = { ...blobFiles("library/a/1", "layer-a", "shared"), ...blobFiles("library/b/1", "layer-b") };
    writeTree(src1, v1);

    const first = deliver(src1, hostPath);
    assert.equal(first.r.status, 0, first.r.stderr);
    assert.match(
      first.r.stdout,
      /static-container-registry: node node-a: .*images\/sets\/[0-9a-f]{64} is current \(7 files\)/,
    );
    assert.equal(first.staged.missing.length, 6, "every distinct content once (two identical version files)");
    assert.equal(fs.readlinkSync(path.join(hostPath, "current")), `sets/${first.plan.setId}`);
    assert.deepEqual(treeText(setDir(hostPath, first.plan.setId)), v1);
    assert.deepEqual(ls(path.dirname(hostPath)), ["images"], "nothing is written beside P");

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
      [hex("new"), hex(v2["library/a/2/manifest.json"])].sort(),
      "only the new blob and the new manifest are copied",
    );
    assert.deepEqual(treeText(path.join(hostPath, "current")), v2);
    const sets = path.join(hostPath, "sets");
    assert.deepEqual(ls(sets), [first.plan.setId, second.plan.setId].sort());
    // A pod that mounted the first set still sees it whole.
    assert.deepEqual(treeText(setDir(hostPath, first.plan.setId)), v1);

    const src3 = path.join(base, "src3");
    writeTree(src3, blobFiles("library/c/1", "only-c"));
    const third = deliver(src3, hostPath);
    assert.equal(third.r.status, 0, third.r.stderr);
    assert.deepEqual(ls(sets), [second.plan.setId, third.plan.setId].sort());
    const objects = ls(path.join(hostPath, "objects"));
    assert.ok(!objects.includes(hex("layer-b")), "an object only the pruned set used is removed");
    assert.ok(objects.includes(hex("new")), "objects of the previous set stay");
    assert.deepEqual(ls(incomingDir(hostPath)), []);

    const again = deliver(src3, hostPath);
    assert.equal(again.staged.missing.length, 0, "nothing to copy for content the node holds");
    assert.equal(again.r.status, 0, again.r.stderr);

    const gone = sh(undeliverScript({ node: "node-a", hostPath }));
    assert.equal(gone.status, 0, gone.stderr);
    assert.deepEqual(ls(path.dirname(hostPath)), [], "P was made by the delivery: it goes too");
  });

  it("P an existing empty directory (or a fresh filesystem's lost+found only): adopted, and left in place on delete", () => {
    const base = scratch("deliver-adopt");
    const src = path.join(base, "src");
    const v = blobFiles("r/1", "x");
    writeTree(src, v);
    const hostPath = path.join(base, "disk");
    fs.mkdirSync(path.join(hostPath, "lost+found"), { recursive: true });
    const d = deliver(src, hostPath);
    assert.equal(d.r.status, 0, d.r.stderr);
    assert.deepEqual(treeText(setDir(hostPath, d.plan.setId)), v);
    assert.deepEqual(ls(base), ["disk", "src"], "nothing is written beside P");
    const gone = sh(undeliverScript({ node: "node-a", hostPath }));
    assert.equal(gone.status, 0, gone.stderr);
    assert.deepEqual(ls(hostPath), ["lost+found"], "P and what was in it stay");
  });

  it("a P holding files that are not the store's is refused, naming it and them, and left intact", () => {
    const base = scratch("deliver-foreign");
    const src = path.join(base, "src");
    writeTree(src, blobFiles("r/1", "x"));
    const hostPath = path.join(base, "data");
    writeTree(hostPath, { "db/users.sqlite": "precious", "notes.txt": "mine" });
    const before = treeText(hostPath);
    const plan = planDelivery(src);
    for (const script of [
      prepareScript({ node: "node-f", hostPath, setId: plan.setId }),
      deliverScript({ node: "node-f", hostPath, setId: plan.setId }),
    ]) {
      const r = sh(script);
      assert.notEqual(r.status, 0);
      assert.equal(
        r.stderr,
        `static-container-registry: node node-f: ${hostPath} holds files that are not static-container-registry's (db notes.txt): ` +
          "hostPath.path must be an empty directory, a mount point of its own or a path that does not exist; nothing was changed\n",
      );
    }
    assert.deepEqual(treeText(hostPath), before);
    assert.deepEqual(ls(hostPath), ["db", "notes.txt"]);
    const gone = sh(undeliverScript({ node: "node-f", hostPath }));
    assert.equal(gone.status, 0, gone.stderr);
    assert.deepEqual(treeText(hostPath), before, "the delete does not touch a P that is not a store");
  });

  it("P a mount point of its own (a dedicated disk): the store lives on it, nothing on the disk below", (t) => {
    if (!requireRoot(t, "a mount point needs root (a private mount namespace)")) return;
    const base = scratch("deliver-mount");
    const src = path.join(base, "src");
    const v = blobFiles("r/1", "x", "y");
    writeTree(src, v);
    const hostPath = path.join(base, "images");
    fs.mkdirSync(hostPath);
    const plan = planDelivery(src);
    const staging = scratch("stage");
    // prepare, copy, deliver, list, undeliver, list: all inside one namespace where P is a tmpfs.
    const steps = [
      prepareScript({ node: "node-m", hostPath, setId: plan.setId }),
      `cp -r "$STAGED" ${JSON.stringify(incomingDir(hostPath))}/`,
      deliverScript({ node: "node-m", hostPath, setId: plan.setId }),
      `df -P ${JSON.stringify(setDir(hostPath, plan.setId))} | tail -n 1 | awk '{print "fs " $1}'; ls -A ${JSON.stringify(hostPath)} | tr '\\n' ' '; echo`,
      undeliverScript({ node: "node-m", hostPath }),
      `ls -A ${JSON.stringify(hostPath)} | wc -l | sed 's/^/left /'`,
    ];
    // A fresh disk holds no objects: everything is staged.
    const staged = stageMissing(plan, new Set(), staging, "node-m");
    const all = steps.join("\n");
    const [cmd, ...args] = inPrivateMounts(`mount -t tmpfs disk "$1" && sh -c "$2"`, [hostPath, all]);
    const r = runAny(cmd, args, { env: { ...process.env, STAGED: staged.dir } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^fs disk$/m, "the set is on the mounted filesystem");
    assert.match(r.stdout, /^\.static-container-registry current incoming objects sets $/m);
    assert.match(r.stdout, /^left 0$/m, "the delete empties the disk and leaves the mount point");
    assert.deepEqual(ls(hostPath), [], "nothing reached the directory under the mount");
    assert.deepEqual(ls(base), ["images", "src"]);
  });

  it("a store of the earlier layout (P a symlink into P.store) moves into P; the set a pod mounted stays whole", () => {
    const base = scratch("deliver-migrate");
    const src = path.join(base, "src");
    const v = blobFiles("r/1", "x");
    writeTree(src, v);
    const plan = planDelivery(src);
    const hostPath = path.join(base, "images");
    const oldSet = path.join(`${hostPath}.store`, "sets", plan.setId);
    writeTree(oldSet, v);
    fs.mkdirSync(path.join(`${hostPath}.store`, "objects"));
    fs.symlinkSync(`images.store/sets/${plan.setId}`, hostPath);
    const mounted = fs.openSync(path.join(oldSet, "r/1/manifest.json"), "r");
    const d = deliver(src, hostPath);
    assert.equal(d.r.status, 0, d.r.stderr);
    assert.match(d.prep.stdout, /moved the store from .*images\.store into .*images/);
    assert.deepEqual(ls(base), ["images", "src"]);
    assert.ok(fs.lstatSync(hostPath).isDirectory());
    assert.deepEqual(treeText(setDir(hostPath, plan.setId)), v);
    assert.equal(fs.readFileSync(mounted, "utf8"), v["r/1/manifest.json"]);
    fs.closeSync(mounted);
  });

  it("refuses a corrupt copy and a P that is a file or a symlink of someone else's, naming the node", () => {
    const base = scratch("deliver-bad");
    const src = path.join(base, "src");
    writeTree(src, blobFiles("r/1", "x"));
    const hostPath = path.join(base, "node", "images");
    const plan = planDelivery(src);
    const prep = sh(prepareScript({ node: "node-b", hostPath, setId: plan.setId }));
    const staged = stageMissing(plan, parseHave(prep.stdout), scratch("stage"), "node-b");
    const incoming = path.join(incomingDir(hostPath), plan.setId);
    fs.cpSync(staged.dir, incoming, { recursive: true });
    fs.writeFileSync(path.join(incoming, "objects", hex("x")), "y");
    const r = sh(deliverScript({ node: "node-b", hostPath, setId: plan.setId }));
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, new RegExp(`node node-b: the copy of ${hex("x")} is corrupt`));
    assert.equal(fs.existsSync(path.join(hostPath, "current")), false, "nothing switched");

    const file = path.join(base, "node2", "images");
    writeTree(path.dirname(file), { images: "a file" });
    const p = sh(prepareScript({ node: "node-c", hostPath: file, setId: plan.setId }));
    assert.notEqual(p.status, 0);
    assert.match(p.stderr, /node node-c: .*node2\/images exists and is not a directory/);

    const link = path.join(base, "node3", "images");
    fs.mkdirSync(path.dirname(link));
    fs.symlinkSync("/srv/elsewhere", link);
    const q = sh(prepareScript({ node: "node-d", hostPath: link, setId: plan.setId }));
    assert.notEqual(q.status, 0);
    assert.match(
      q.stderr,
      /node node-d: .*node3\/images is a symlink \(to \/srv\/elsewhere\) that static-container-registry did not make/,
    );
    assert.equal(fs.readlinkSync(link), "/srv/elsewhere");
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
  if (!requireRoot(t, "wiring tests need root (a private mount namespace over /etc/containerd)"))
    return undefined;
  const work = scratch("wire");
  const seed = path.join(work, "seed");
  fs.mkdirSync(seed);
  writeTree(seed, { ...(config !== undefined ? { "config.toml": config } : {}), ...files });
  fs.writeFileSync(path.join(work, "script.sh"), script);
  const out = path.join(work, "out");
  const [cmd, ...args] = inPrivateMounts(
    `mkdir -p /etc/containerd && mount -t tmpfs tmpfs /etc/containerd && cp -a "$1"/. /etc/containerd/ &&
       sh "$2"; s=$?; cp -a /etc/containerd/. "$3"/; exit $s`,
    [seed, path.join(work, "script.sh"), out],
  );
  const r = runAny(cmd, args);
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
    const etc = treeText(wired.etc);
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
        // Temp files of ours, left by a write or a wiring watcher's pass cut short: removed with the dir.
        "certs.d/docker.io/.hosts.toml.tmp.4242": "",
        "certs.d/docker.io/hosts.toml.tmp.scr": "",
      },
    )!;
    assert.equal(twice.r.status, 0, twice.r.stderr);
    assert.deepEqual(treeText(twice.etc), { "config.toml": CONFIG_V2, "certs.d/quay.io/hosts.toml": before });
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

  it("with TLS: places the CA where hosts.toml points, keeps a file that was there, and the delete restores it", (t) => {
    const pem = "-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n";
    const ca = { file: "/etc/containerd/scr-ca/ca.crt", pem };
    const fresh = inPrivateEtc(t, wireScript({ node: "n1", hostsTomls, ca }), CONFIG_V2, {});
    if (!fresh) return;
    assert.equal(fresh.r.status, 0, fresh.r.stderr);
    const written = treeText(fresh.etc)["scr-ca/ca.crt"];
    assert.match(written, /^# Generated by static-container-registry/);
    assert.ok(written.endsWith(pem));
    assert.match(
      fresh.r.stdout,
      /node n1: placed the registry's CA certificate at \/etc\/containerd\/scr-ca\/ca\.crt/,
    );
    const undone = inPrivateEtc(
      t,
      unwireScript({ node: "n1", hostsTomls, ca: { file: ca.file, pem: "" } }),
      undefined,
      {
        ...treeText(fresh.etc),
        "scr-ca/.created-by-static-container-registry": "",
      },
    )!;
    assert.equal(undone.r.status, 0, undone.r.stderr);
    assert.equal(
      fs.existsSync(path.join(undone.etc, "scr-ca")),
      false,
      "the CA and the dir it needed are gone",
    );

    const theirs = "their CA\n";
    const kept = inPrivateEtc(
      t,
      wireScript({ node: "n1", hostsTomls, ca }) + unwireScript({ node: "n1", hostsTomls, ca }),
      CONFIG_V2,
      { "scr-ca/ca.crt": theirs },
    )!;
    assert.equal(kept.r.status, 0, kept.r.stderr);
    assert.deepEqual(treeText(path.join(kept.etc, "scr-ca")), { "ca.crt": theirs });
  });

  it("refuses a host name that is not one", () => {
    assert.throws(
      () => wireScript({ node: "n", hostsTomls: { "a b": "" } }),
      /"a b" is not a registry host name/,
    );
  });
});

/**
 * Runs `scripts` one after another in a private mount namespace whose
 * /etc/rancher is a fresh tmpfs seeded with `files` (relative to /etc/rancher)
 * and whose systemctl is a stand-in that logs its arguments and says k3s is
 * active. Returns each script's result, the tree after each, and the log.
 */
function onK3sNode(t: TestContext, scripts: string[], files: Record<string, string>) {
  if (!requireRoot(t, "k3s wiring tests need root (a private mount namespace over /etc/rancher)"))
    return undefined;
  const work = scratch("k3s");
  const seed = path.join(work, "seed");
  fs.mkdirSync(path.join(seed, "k3s"), { recursive: true });
  writeTree(seed, files);
  const log = path.join(work, "systemctl.log");
  fs.writeFileSync(
    path.join(work, "systemctl"),
    `#!/bin/sh\necho "$*" >> ${log}\ncase "$*" in "is-active --quiet k3s") exit 0 ;; is-active*) exit 3 ;; esac\nexit 0\n`,
    { mode: 0o755 },
  );
  const steps = scripts.map((s, i) => {
    fs.writeFileSync(path.join(work, `s${i}.sh`), s);
    return `sh "$W/s${i}.sh" >"$W/out${i}" 2>&1; echo $? >"$W/rc${i}"; mkdir -p "$W/tree${i}"; cp -a /etc/rancher/. "$W/tree${i}/"`;
  });
  const [cmd, ...args] = inPrivateMounts(
    `W="$1"; mkdir -p /etc/rancher && mount -t tmpfs tmpfs /etc/rancher && cp -a "$W/seed/." /etc/rancher/ &&
       mount --bind "$W/systemctl" "$(command -v systemctl)" && ${steps.join(" && ")}`,
    [work],
  );
  const r = runAny(cmd, args);
  assert.equal(r.status, 0, r.stderr);
  return scripts.map((_, i) => ({
    status: Number(fs.readFileSync(path.join(work, `rc${i}`), "utf8")),
    output: fs.readFileSync(path.join(work, `out${i}`), "utf8"),
    tree: treeText(path.join(work, `tree${i}`)),
    log: () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8") : ""),
  }));
}

describe("k3s / RKE2 wiring", () => {
  const hostsTomls = { "docker.io": "x", "quay.io": "y" };
  const registriesYaml =
    "mirrors:\n  docker.io:\n    endpoint:\n      - http://127.0.0.1:5000\n    rewrite:\n      ^(.*)$: docker.io/$1\n  quay.io:\n    endpoint:\n      - http://127.0.0.1:5000\n";
  const theirs = `mirrors:\n  registry.local:\n    endpoint:\n      - "https://registry.local:5000"\n  docker.io:\n    endpoint:\n      - "https://corp-hub-cache.example"\nconfigs:\n  "registry.local:5000":\n    tls:\n      insecure_skip_verify: true\n`;
  const wire = wireScript({ node: "k3s-1", hostsTomls, registriesYaml });
  const unwire = unwireScript({ node: "k3s-1", hostsTomls, registriesYaml });

  it("merges the mirrors into registries.yaml, restarts only on change, and the delete restores the file", (t) => {
    const runs = onK3sNode(t, [wire, wire, unwire], { "k3s/registries.yaml": theirs });
    if (!runs) return;
    const [first, second, third] = runs;
    assert.equal(first.status, 0, first.output);
    const merged = first.tree["k3s/registries.yaml"];
    assert.equal(
      merged,
      `mirrors:\n  # BEGIN static-container-registry\n${registriesYaml.slice("mirrors:\n".length)}  # END static-container-registry\n  registry.local:\n    endpoint:\n      - "https://registry.local:5000"\nconfigs:\n  "registry.local:5000":\n    tls:\n      insecure_skip_verify: true\n`,
      "our entries in, the user's docker.io entry out while ours is in place, everything else kept",
    );
    assert.equal(first.tree["k3s/registries.yaml.before-static-container-registry"], theirs);
    assert.match(first.output, /node k3s-1: restarted k3s/);
    assert.equal(second.status, 0, second.output);
    assert.match(second.output, /already has the mirrors/);
    assert.doesNotMatch(second.output, /restarted/);
    assert.equal(third.status, 0, third.output);
    assert.deepEqual(third.tree, { "k3s/registries.yaml": theirs });
    assert.equal(
      third.log().match(/^restart k3s$/gm)?.length,
      2,
      "restarted after the wire and after the delete only",
    );
  });

  it("creates registries.yaml when there is none, and the delete removes it", (t) => {
    const runs = onK3sNode(t, [wire, unwire], {});
    if (!runs) return;
    assert.equal(runs[0].status, 0, runs[0].output);
    assert.match(
      runs[0].tree["k3s/registries.yaml"],
      /^mirrors:\n {2}# BEGIN static-container-registry\n {2}docker\.io:/,
    );
    assert.equal(runs[1].status, 0, runs[1].output);
    assert.deepEqual(runs[1].tree, {});
  });

  it("with TLS: merges the configs (the CA of each endpoint) too, and the delete restores the file", (t) => {
    const tls = registriesYamlAll({
      endpoint: "127.0.0.1:5000",
      fallbacks: ["10.43.0.10:5000"],
      repositories: ["docker.io/library/alpine"],
      tls: { caFile: "/etc/static-container-registry/ca.crt" },
    });
    const ca = {
      file: "/etc/rancher/scr-ca.crt",
      pem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    };
    const theirsWithOurs = `${theirs}  10.43.0.10:5000:\n    tls:\n      insecure_skip_verify: true\n`;
    const runs = onK3sNode(
      t,
      [
        wireScript({ node: "k3s-1", hostsTomls: { "docker.io": "x" }, registriesYaml: tls, ca }),
        unwireScript({ node: "k3s-1", hostsTomls: { "docker.io": "x" }, registriesYaml: tls, ca }),
      ],
      { "k3s/registries.yaml": theirsWithOurs },
    );
    if (!runs) return;
    assert.equal(runs[0].status, 0, runs[0].output);
    const merged = parse(runs[0].tree["k3s/registries.yaml"]);
    assert.deepEqual(merged.mirrors["docker.io"].endpoint, [
      "https://127.0.0.1:5000",
      "https://10.43.0.10:5000",
    ]);
    assert.deepEqual(merged.mirrors["registry.local"], { endpoint: ["https://registry.local:5000"] });
    assert.deepEqual(merged.configs, {
      "127.0.0.1:5000": { tls: { ca_file: "/etc/static-container-registry/ca.crt" } },
      "10.43.0.10:5000": { tls: { ca_file: "/etc/static-container-registry/ca.crt" } },
      "registry.local:5000": { tls: { insecure_skip_verify: true } },
    });
    assert.ok(runs[0].tree["scr-ca.crt"].endsWith(ca.pem), "the CA is placed on a k3s node too");
    assert.equal(runs[1].status, 0, runs[1].output);
    assert.deepEqual(runs[1].tree, { "k3s/registries.yaml": theirsWithOurs });
  });

  it("refuses a registries.yaml in flow style, naming the node, changing nothing", (t) => {
    const runs = onK3sNode(t, [wire], { "k3s/registries.yaml": "mirrors: {}\n" });
    if (!runs) return;
    assert.notEqual(runs[0].status, 0);
    assert.match(
      runs[0].output,
      /node k3s-1: \/etc\/rancher\/k3s\/registries.yaml has mirrors: in flow style/,
    );
    assert.deepEqual(runs[0].tree, { "k3s/registries.yaml": "mirrors: {}\n" });
    assert.equal(runs[0].log(), "");
  });
});
