/**
 * The in-cluster node wiring. The script is run for real against a temp dir
 * standing for a node's /etc/containerd/certs.d, under sh + coreutils and
 * with busybox alone on PATH (alpine-based images): what it writes, that a
 * second pass writes nothing, that it only ever touches the hosts.toml files
 * it owns, that it refuses a file it did not write, and that the repeating
 * mode puts a removed file back and stops on SIGTERM. Then the DaemonSet's
 * own init container runs on the pod simulation (its command, root without
 * capabilities, read-only root, the ConfigMap laid out as the kubelet does,
 * the certs dir as its only host directory), and every object is checked
 * against the Kubernetes schema.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import { containerdHostsTomls } from "../../src/nodes/wiring";
import {
  WIRING_LIST,
  WIRING_SCRIPT,
  wiringDaemonSetSpec,
  wiringFiles,
  wiringHash,
} from "../../src/kubernetes/wiringDaemonSet";
import { inCI, requireRoot, runAny, tmpDir, which } from "../support/tools";
import { containerEnv, containerRun, layoutVolumes } from "./podSim";
import { baselineViolations } from "./podSecurity";
import { schemaErrors, unknownFieldErrors } from "./schema";

/* eslint-disable @typescript-eslint/no-explicit-any */

const TOMLS = containerdHostsTomls({
  endpoint: "127.0.0.1:5000",
  repositories: ["docker.io/library/alpine", "registry.k8s.io/pause", "upstream-a.invalid:5000/team/app"],
});

/** The ConfigMap's files in a dir (plain files: the symlinked layout is covered by the pod run below). */
function sourceDir(files: Record<string, string>): string {
  const dir = tmpDir("wiring-src");
  for (const [k, v] of Object.entries(files)) fs.writeFileSync(path.join(dir, k), v);
  return dir;
}

/** Every file under `dir` with its inode and content, for before/after comparisons. */
function snapshot(dir: string): Map<string, { ino: number; mtimeMs: number; content: string; mode: number }> {
  const out = new Map<string, { ino: number; mtimeMs: number; content: string; mode: number }>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const st = fs.statSync(p);
        out.set(path.relative(dir, p), {
          ino: st.ino,
          mtimeMs: st.mtimeMs,
          content: fs.readFileSync(p, "utf8"),
          mode: st.mode & 0o777,
        });
      }
    }
  };
  walk(dir);
  return out;
}

interface Shell {
  name: string;
  argv: (script: string, args: string[]) => string[];
  env: NodeJS.ProcessEnv;
}

function shells(): Shell[] {
  const list: Shell[] = [
    {
      name: "sh + coreutils",
      argv: (s, a) => ["sh", s, ...a],
      env: { PATH: process.env.PATH, NODE_NAME: "node-a" },
    },
  ];
  const busybox = which("busybox");
  if (!busybox) {
    if (inCI) throw new Error("busybox is not installed; CI must test the wiring script under busybox");
    process.stderr.write("\n*** wiring: busybox not installed, testing with sh + coreutils only ***\n");
    return list;
  }
  // Only busybox applets on PATH, as in an alpine image.
  const bin = tmpDir("wiring-busybox");
  for (const applet of [
    "sh",
    "awk",
    "cat",
    "cmp",
    "cp",
    "chmod",
    "mkdir",
    "mv",
    "rm",
    "grep",
    "sleep",
    "hostname",
    "timeout",
    "wget",
  ])
    fs.symlinkSync(busybox, path.join(bin, applet));
  list.push({
    name: "busybox",
    argv: (s, a) => [path.join(bin, "sh"), s, ...a],
    env: { PATH: bin, NODE_NAME: "node-a" },
  });
  return list;
}

for (const shell of shells()) {
  describe(`wiring script under ${shell.name}`, () => {
    const files = wiringFiles(TOMLS);
    const run = (certs: string, src: string) => {
      const [cmd, ...args] = shell.argv(path.join(src, WIRING_SCRIPT), [certs, src]);
      return runAny(cmd, args, { env: shell.env });
    };

    test("writes one hosts.toml per upstream host, 0644, and nothing else", () => {
      const src = sourceDir(files);
      const certs = tmpDir("wiring-certs");
      // Another host's wiring and an unrelated file are there before.
      fs.mkdirSync(path.join(certs, "quay.io"));
      fs.writeFileSync(path.join(certs, "quay.io", "hosts.toml"), 'server = "https://quay.io"\n');
      fs.writeFileSync(path.join(certs, "README"), "keep me\n");
      const before = snapshot(certs);

      const r = run(certs, src);
      assert.equal(r.status, 0, r.stderr);
      const after = snapshot(certs);
      for (const [k, v] of before) assert.deepEqual(after.get(k), v, `${k} untouched`);
      const written = [...after.keys()].filter((k) => !before.has(k)).sort();
      assert.deepEqual(
        written,
        Object.keys(TOMLS)
          .map((h) => `${h}/hosts.toml`)
          .sort(),
      );
      for (const [host, toml] of Object.entries(TOMLS)) {
        assert.equal(after.get(`${host}/hosts.toml`)!.content, toml);
        assert.equal(after.get(`${host}/hosts.toml`)!.mode, 0o644);
        assert.match(
          r.stderr,
          new RegExp(`node node-a: wrote ${certs}/${host.replace(/\./g, "\\.")}/hosts\\.toml`),
        );
      }
      assert.match(r.stderr, /wiring: node node-a: wired$/m);
    });

    test("a second pass writes nothing; a changed host rewrites only its file", () => {
      const certs = tmpDir("wiring-certs");
      assert.equal(run(certs, sourceDir(files)).status, 0);
      const first = snapshot(certs);
      const again = run(certs, sourceDir(files));
      assert.equal(again.status, 0, again.stderr);
      assert.doesNotMatch(again.stderr, /wrote/);
      assert.deepEqual(snapshot(certs), first);

      const moved = wiringFiles(
        containerdHostsTomls({ endpoint: "127.0.0.1:5001", repositories: ["docker.io/library/alpine"] }),
      );
      const r = run(certs, sourceDir(moved));
      assert.equal(r.status, 0, r.stderr);
      const after = snapshot(certs);
      assert.match(after.get("docker.io/hosts.toml")!.content, /127\.0\.0\.1:5001/);
      assert.notEqual(
        after.get("docker.io/hosts.toml")!.ino,
        first.get("docker.io/hosts.toml")!.ino,
        "replaced by rename",
      );
      // Hosts no longer listed are left as they are.
      assert.deepEqual(after.get("registry.k8s.io/hosts.toml"), first.get("registry.k8s.io/hosts.toml"));
    });

    test("refuses to overwrite a hosts.toml it did not write, naming the node and the file", () => {
      const certs = tmpDir("wiring-certs");
      fs.mkdirSync(path.join(certs, "docker.io"));
      const theirs = path.join(certs, "docker.io", "hosts.toml");
      fs.writeFileSync(theirs, 'server = "https://mirror.example"\n');
      const r = run(certs, sourceDir(files));
      assert.equal(r.status, 1);
      assert.match(
        r.stderr,
        new RegExp(
          `node node-a: ${theirs.replace(/\./g, "\\.")} exists and was not written by static-container-registry: not overwriting it`,
        ),
      );
      assert.equal(fs.readFileSync(theirs, "utf8"), 'server = "https://mirror.example"\n');
    });

    test("refuses a list line that would leave the certs dir", () => {
      const certs = tmpDir("wiring-certs");
      const src = sourceDir({ ...files, [WIRING_LIST]: "../../etc hosts-0.toml\n" });
      const r = run(certs, src);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /refusing host name '\.\.\/\.\.\/etc'/);
      assert.deepEqual([...snapshot(certs).keys()], []);
    });

    test("with an interval it puts a removed file back, and exits 0 on SIGTERM", async () => {
      const certs = tmpDir("wiring-certs");
      const src = sourceDir(files);
      const [cmd, ...args] = shell.argv(path.join(src, WIRING_SCRIPT), [certs, src, "1"]);
      const proc = spawn(cmd, args, { env: shell.env, stdio: ["ignore", "ignore", "pipe"] });
      let err = "";
      proc.stderr.on("data", (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
      const f = path.join(certs, "docker.io", "hosts.toml");
      const waitFor = async (what: string, ok: () => boolean) => {
        for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
        assert.ok(ok(), `${what}\n${err}`);
      };
      try {
        await waitFor("first pass", () => fs.existsSync(f));
        fs.rmSync(f);
        await waitFor("file restored", () => fs.existsSync(f));
        assert.equal(fs.readFileSync(f, "utf8"), TOMLS["docker.io"]);
      } finally {
        proc.kill("SIGTERM");
      }
      assert.equal(await exited, 0, err);
    });
  });
}

describe("wiring DaemonSet", () => {
  const files = wiringFiles(TOMLS);
  const spec: any = wiringDaemonSetSpec({
    labels: { app: "wiring" },
    selector: { app: "wiring" },
    configMapName: "reg-wiring-abc",
    contentHash: wiringHash(files),
    image: "registry.invalid/nginx:1",
    imagePullPolicy: "IfNotPresent",
  });

  test("its objects pass the Kubernetes schema; the certs dir is its only host access", () => {
    const ds = {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "reg-wiring", namespace: "default" },
      spec,
    };
    const cm = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "reg-wiring-abc", namespace: "default" },
      data: files,
    };
    for (const o of [ds, cm]) assert.deepEqual(schemaErrors(o), [], o.kind);
    assert.deepEqual(unknownFieldErrors([ds, cm]), []);
    const pod = spec.template.spec;
    assert.deepEqual(baselineViolations(pod), ["hostPath volumes: certs"]);
    assert.deepEqual(pod.volumes[1], {
      name: "certs",
      hostPath: { path: "/etc/containerd/certs.d", type: "DirectoryOrCreate" },
    });
    assert.deepEqual(pod.tolerations, [{ operator: "Exists" }]);
    for (const c of [...pod.initContainers, ...pod.containers]) {
      assert.deepEqual(c.securityContext.capabilities, { drop: ["ALL"] });
      assert.equal(c.securityContext.readOnlyRootFilesystem, true);
      assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    }
    assert.deepEqual(pod.containers[0].command.slice(-1), ["300"]);
  });

  test("its init container wires a node on the pod simulation: root without capabilities, read-only root", (t) => {
    if (!requireRoot(t, "the pod simulation needs root")) return;
    for (const tool of ["unshare", "setpriv", "mkfifo"])
      if (!which(tool)) throw new Error(`${tool} is missing`);
    const work = tmpDir("wiring-pod");
    const nodeCerts = path.join(work, "node", "etc", "containerd", "certs.d");
    const pod = spec.template.spec;
    const layout = layoutVolumes(pod, new Map([["reg-wiring-abc", files]]), work, (p) =>
      p === "/etc/containerd/certs.d" ? nodeCerts : assert.fail(`unexpected hostPath ${p}`),
    );
    assert.ok(fs.statSync(nodeCerts).isDirectory(), "DirectoryOrCreate created it");
    const c = containerRun(pod, pod.initContainers[0], layout, path.join(work, "run"));
    assert.equal(c.uid, 0);
    const r = runAny(c.cmd, c.args, { env: { ...containerEnv(), NODE_NAME: "node-b" } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /node node-b: wired/);
    for (const [host, toml] of Object.entries(TOMLS))
      assert.equal(fs.readFileSync(path.join(nodeCerts, host, "hosts.toml"), "utf8"), toml);
    assert.deepEqual(
      fs.readdirSync(nodeCerts).sort(),
      Object.keys(TOMLS).sort(),
      "no temp files or anything else left",
    );
  });
});
