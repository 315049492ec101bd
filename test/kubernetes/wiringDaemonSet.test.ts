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
import { describe, test, type TestContext } from "node:test";
import { WIRING_SCRIPT_COMMANDS } from "../../src/nodes/keepWired";
import { containerdHostsTomls } from "../../src/nodes/wiring";
import {
  WIRING_LIST,
  WIRING_SCRIPT,
  wiringDaemonSetSpec,
  wiringFiles,
  wiringHash,
} from "../../src/kubernetes/wiringDaemonSet";
import { scriptShells } from "../support/scriptShells";
import { runAny, tmpDir } from "../support/tools";
import { fileStates } from "../support/trees";
import { containerEnv, containerRun, layoutVolumes, podSimReady, runContainer } from "./podSim";
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

for (const shell of scriptShells(WIRING_SCRIPT_COMMANDS)) {
  describe(`wiring script under ${shell.name}`, () => {
    const files = wiringFiles(TOMLS);
    /** The script under this shell, for test `t`; undefined when the shell is missing (skipped, or failed in CI). */
    const wiring = (t: TestContext) => {
      const s = shell.prepare(t);
      if (!s) return undefined;
      const env = { PATH: s.path, NODE_NAME: "node-a" };
      const argv = (certs: string, src: string, ...more: string[]) => [
        s.sh,
        path.join(src, WIRING_SCRIPT),
        certs,
        src,
        ...more,
      ];
      const run = (certs: string, src: string) => {
        const [cmd, ...args] = argv(certs, src);
        return runAny(cmd, args, { env });
      };
      return { env, argv, run };
    };

    test("writes one hosts.toml per upstream host, 0644, and nothing else", (t) => {
      const run = wiring(t)?.run;
      if (!run) return;
      const src = sourceDir(files);
      const certs = tmpDir("wiring-certs");
      // Another host's wiring and an unrelated file are there before.
      fs.mkdirSync(path.join(certs, "quay.io"));
      fs.writeFileSync(path.join(certs, "quay.io", "hosts.toml"), 'server = "https://quay.io"\n');
      fs.writeFileSync(path.join(certs, "README"), "keep me\n");
      const before = fileStates(certs);

      const r = run(certs, src);
      assert.equal(r.status, 0, r.stderr);
      const after = fileStates(certs);
      for (const [k, v] of before) assert.deepEqual(after.get(k), v, `${k} untouched`);
      const written = [...after.keys()].filter((k) => !before.has(k)).sort();
      assert.deepEqual(
        written,
        Object.keys(TOMLS)
          .map((h) => `${h}/hosts.toml`)
          .sort(),
      );
      for (const [host, toml] of Object.entries(TOMLS)) {
        assert.equal(after.get(`${host}/hosts.toml`)!.text, toml);
        assert.equal(after.get(`${host}/hosts.toml`)!.mode, 0o644);
        assert.match(
          r.stderr,
          new RegExp(`node node-a: wrote ${certs}/${host.replace(/\./g, "\\.")}/hosts\\.toml`),
        );
      }
      assert.match(r.stderr, /wiring: node node-a: wired$/m);
    });

    test("a second pass writes nothing; a changed host rewrites only its file", (t) => {
      const run = wiring(t)?.run;
      if (!run) return;
      const certs = tmpDir("wiring-certs");
      assert.equal(run(certs, sourceDir(files)).status, 0);
      const first = fileStates(certs);
      const again = run(certs, sourceDir(files));
      assert.equal(again.status, 0, again.stderr);
      assert.doesNotMatch(again.stderr, /wrote/);
      assert.deepEqual(fileStates(certs), first);

      const moved = wiringFiles(
        containerdHostsTomls({ endpoint: "127.0.0.1:5001", repositories: ["docker.io/library/alpine"] }),
      );
      const r = run(certs, sourceDir(moved));
      assert.equal(r.status, 0, r.stderr);
      const after = fileStates(certs);
      assert.match(after.get("docker.io/hosts.toml")!.text, /127\.0\.0\.1:5001/);
      assert.notEqual(
        after.get("docker.io/hosts.toml")!.ino,
        first.get("docker.io/hosts.toml")!.ino,
        "replaced by rename",
      );
      // Hosts no longer listed are left as they are.
      assert.deepEqual(after.get("registry.k8s.io/hosts.toml"), first.get("registry.k8s.io/hosts.toml"));
    });

    test("refuses to overwrite a hosts.toml it did not write, naming the node and the file", (t) => {
      const run = wiring(t)?.run;
      if (!run) return;
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

    test("refuses a list line that would leave the certs dir", (t) => {
      const run = wiring(t)?.run;
      if (!run) return;
      const certs = tmpDir("wiring-certs");
      const src = sourceDir({ ...files, [WIRING_LIST]: "../../etc hosts-0.toml\n" });
      const r = run(certs, src);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /refusing host name '\.\.\/\.\.\/etc'/);
      assert.deepEqual([...fileStates(certs).keys()], []);
    });

    test("with an interval it puts a removed file back, and exits 0 on SIGTERM", async (t) => {
      const w = wiring(t);
      if (!w) return;
      const certs = tmpDir("wiring-certs");
      const src = sourceDir(files);
      const [cmd, ...args] = w.argv(certs, src, "1");
      const proc = spawn(cmd, args, { env: w.env, stdio: ["ignore", "ignore", "pipe"] });
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
    if (!podSimReady(t)) return;
    const work = tmpDir("wiring-pod");
    const nodeCerts = path.join(work, "node", "etc", "containerd", "certs.d");
    const pod = spec.template.spec;
    const layout = layoutVolumes(pod, new Map([["reg-wiring-abc", files]]), work, (p) =>
      p === "/etc/containerd/certs.d" ? nodeCerts : assert.fail(`unexpected hostPath ${p}`),
    );
    assert.ok(fs.statSync(nodeCerts).isDirectory(), "DirectoryOrCreate created it");
    assert.equal(containerRun(pod, pod.initContainers[0], layout, path.join(work, "run")).uid, 0);
    const r = runContainer(pod, pod.initContainers[0], layout, path.join(work, "run"), {
      ...containerEnv(),
      NODE_NAME: "node-b",
    });
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
