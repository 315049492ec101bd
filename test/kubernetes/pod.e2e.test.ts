/**
 * Pod simulation: the StaticContainerRegistry component is constructed under
 * Pulumi's mocks for the fixture tree; then the ConfigMap data, the volumes,
 * the mounts, the commands and the security context of the Deployment it
 * registered are laid out and run as a kubelet would (see podSim.ts) — the
 * drift guard init container first, then nginx, as UID 101 on a read-only
 * root — and every fixture is pulled through it with skopeo and with
 * containerd, the latter wired with the component's own hosts.toml output.
 *
 * Nothing here is written by hand for the pod: if the component's objects are
 * wrong (a path, a mount, a missing ConfigMap key, a command line), this fails.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test, type TestContext } from "node:test";
import { sha256 } from "../../src/inventory";
import type { FixtureImage } from "../fixtures/build";
import {
  REPO_ROOT,
  buildFixtures,
  hostPlatform,
  once,
  request,
  scratch,
  startContainerd,
  stopAll,
} from "../e2e/harness";
import { childPids, uidsOf } from "../support/procs";
import { assertSameImage, pullToDir } from "../support/skopeo";
import { freePort, run, type Server } from "../support/tools";
import { installMocks, one, resourcesOf, settle, valueOf } from "./mocks";
import {
  configMapsOf,
  layoutVolumes,
  podSimReady,
  runContainer as runInPod,
  startContainer,
  type VolumeLayout,
} from "./podSim";
import { writeSyntheticTree } from "./synthetic";

/* eslint-disable @typescript-eslint/no-explicit-any */

/** What every test here needs: the pod simulation, nginx and skopeo (and `more`). */
const ready = (t: TestContext, ...more: string[]) => podSimReady(t, "nginx", "skopeo", "jq", ...more);

const UPSTREAM = "pod-e2e.registry.invalid";
const hex = (d: string) => d.replace(/^sha256:/, "");

interface Pod {
  port: number;
  pod: any;
  configMaps: Map<string, Record<string, string>>;
  out: Record<string, any>;
  layout: VolumeLayout;
  work: string;
  nginx?: Server;
}

interface Env extends Pod {
  fx: { root: string; images: FixtureImage[] };
}

/**
 * Constructs the component under mocks for `imagesDir` (hostPath storage at
 * the same path, host network) and lays out the volumes of the Deployment it
 * registered.
 */
async function deployPod(name: string, imagesDir: string, extra: Record<string, unknown> = {}): Promise<Pod> {
  await installMocks();
  const kube = await import("../../src/kubernetes");
  const port = await freePort();
  const reg = new kube.StaticContainerRegistry(name, {
    imagesDir,
    // The simulated node holds the images where the machine running Pulumi does.
    hostPath: { path: imagesDir, anyNode: true },
    // The simulation shares this machine's network namespace, as a hostNetwork pod does.
    hostNetwork: true,
    port,
    upstreamHost: UPSTREAM,
    ...extra,
  });
  const out: Record<string, any> = {};
  for (const k of ["hostsToml", "nodeEndpoint", "summary", "configMapNames", "repositories"] as const) {
    out[k] = await valueOf(reg[k] as any);
  }
  await settle();
  const res = resourcesOf(name);
  const configMaps = configMapsOf(res);
  const pod = one(res, "kubernetes:apps/v1:Deployment", name).inputs.spec.template.spec;
  const work = scratch(`pod-sim-${name}`);
  const layout = layoutVolumes(pod, configMaps, work);
  return { port, pod, configMaps, out, layout, work };
}

const env = once(async (): Promise<Env> => {
  const fx = await buildFixtures();
  return { fx, ...(await deployPod("pod", fx.root)) };
});

/** Starts the pod's nginx container and waits until it listens. */
async function startNginx(p: Pod): Promise<Server> {
  const server = await startContainer(
    p.pod,
    p.pod.containers[0],
    p.layout,
    path.join(p.work, "run-nginx"),
    p.port,
  );
  running.push(server);
  return server;
}

const running: Server[] = [];
after(async () => {
  for (const s of running) await s.stop();
  await stopAll();
});

/** Runs a container of the pod to completion. */
function runContainer(e: Pod, container: any, layout = e.layout, workSuffix = "") {
  return runInPod(e.pod, container, layout, path.join(e.work, `run-${container.name}${workSuffix}`));
}

/** The pod's nginx container with another command (same image, mounts and security context). */
function withCommand(e: Env, command: string[]): any {
  return { ...e.pod.containers[0], name: "probe", command, args: undefined };
}

describe("pod simulation", () => {
  test("the kubelet's layout of the projected ConfigMaps holds every rendered file", async (t) => {
    if (!ready(t)) return;
    const e = await env();
    const dir = e.layout.dirs.get("config")!;
    const keys = [...e.configMaps.values()].flatMap((d) => Object.keys(d));
    assert.ok(keys.length >= 3);
    for (const k of keys) {
      assert.ok(fs.lstatSync(path.join(dir, k)).isSymbolicLink(), `${k} is a ..data symlink`);
      assert.equal((fs.statSync(path.join(dir, k)).mode & 0o777).toString(8), "444");
    }
    assert.deepEqual(
      e.pod.volumes[0].projected.sources.map((s: any) => s.configMap.name),
      e.out.configMapNames,
    );
  });

  test("drift guard init container passes on the images the config was generated from", async (t) => {
    if (!ready(t)) return;
    const e = await env();
    assert.equal(e.pod.initContainers.length, 1);
    const r = runContainer(e, e.pod.initContainers[0]);
    assert.equal(r.status, 0, `drift guard failed:\n${r.stdout}\n${r.stderr}`);
    assert.match(
      r.stderr,
      new RegExp(
        `drift-guard: OK: ${e.out.summary.manifests} manifests and ${e.out.summary.blobs} blobs \\(\\d+ bytes\\) under /srv/static-container-registry match the registry config`,
      ),
    );
  });

  test("the containers run as 101:101 without capabilities, on a read-only root with read-only volumes", async (t) => {
    if (!ready(t)) return;
    const e = await env();
    const paths = {
      root: "/",
      config: "/etc/static-container-registry",
      images: "/srv/static-container-registry",
      scratch: "/run/static-container-registry",
    };
    const script = [
      'echo "uid=$(id -u) gid=$(id -g) groups=$(id -G)"',
      "grep -E '^(CapEff|CapBnd|NoNewPrivs):' /proc/self/status",
      ...Object.entries(paths).map(
        ([k, p]) =>
          `if touch '${p}/.probe' 2>/dev/null; then echo '${k}: writable'; else echo '${k}: read-only'; fi`,
      ),
    ].join("\n");
    const r = runContainer(e, withCommand(e, ["sh", "-c", script]));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^uid=101 gid=101 groups=101$/m);
    assert.match(r.stdout, /^CapEff:\s+0+$/m);
    assert.match(r.stdout, /^CapBnd:\s+0+$/m);
    assert.match(r.stdout, /^NoNewPrivs:\s+1$/m);
    assert.match(r.stdout, /^root: read-only$/m);
    assert.match(r.stdout, /^config: read-only$/m);
    assert.match(r.stdout, /^images: read-only$/m);
    assert.match(r.stdout, /^scratch: writable$/m);
  });

  test("nginx starts with the pod's command and answers the readiness probe", async (t) => {
    if (!ready(t)) return;
    const e = await env();
    const c = e.pod.containers[0];
    e.nginx = await startNginx(e);

    // The probes, as the kubelet sends them.
    for (const probe of [c.readinessProbe, c.livenessProbe]) {
      const port = c.ports.find((p: any) => p.name === probe.httpGet.port).containerPort;
      assert.equal(port, e.port);
      const res = await request(port, "GET", probe.httpGet.path);
      assert.equal(res.status, 200);
      assert.equal(res.headers["docker-distribution-api-version"], "registry/2.0");
    }

    // Master and workers run as the pod's user; runtime files went to the emptyDir.
    const pids = [e.nginx.pid, ...childPids(e.nginx.pid)];
    assert.ok(pids.length >= 2, "nginx has a master and workers");
    for (const pid of pids) {
      assert.deepEqual(uidsOf(pid), [101, 101, 101, 101], `pid ${pid}: uid`);
      const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
      assert.match(status, /^Gid:\s+101\s+101\s+101\s+101$/m, `pid ${pid}`);
    }
    assert.ok(
      fs.readdirSync(e.layout.dirs.get("scratch")!).length > 0,
      "nginx wrote its runtime files to the scratch volume",
    );
  });

  test("skopeo copy --all of every fixture through the pod is byte-identical", async (t) => {
    if (!ready(t)) return;
    const e = await env();
    assert.ok(e.nginx, "nginx is running");
    const out = scratch("pod-skopeo");
    for (const img of e.fx.images) {
      await t.test(`${img.reference} (${img.kind})`, () => {
        const dest = path.join(out, img.repo, img.tag);
        pullToDir(e.out.nodeEndpoint, img.reference, dest);
        assertSameImage(dest, img);
      });
    }
  });

  test("containerd pulls every image through the component's hosts.toml", async (t) => {
    if (!ready(t, "containerd", "ctr")) return;
    const e = await env();
    assert.ok(e.nginx, "nginx is running");
    const cd = await startContainerd();
    // The node wiring exactly as the component outputs it.
    const hostsDir = scratch("pod-hosts");
    fs.mkdirSync(path.join(hostsDir, UPSTREAM));
    fs.writeFileSync(path.join(hostsDir, UPSTREAM, "hosts.toml"), e.out.hostsToml);
    assert.match(e.out.hostsToml, new RegExp(`\\[host\\."http://127\\.0\\.0\\.1:${e.port}"\\]`));

    let n = 0;
    const ns = () => `pod-${++n}`;
    const digestOf = (namespace: string, ref: string) => {
      const line = cd
        .ctr(["images", "ls"], namespace)
        .stdout.split("\n")
        .find((l) => l.startsWith(ref + " "));
      assert.ok(line, `ctr images ls shows ${ref}`);
      return line.trim().split(/\s+/)[2];
    };
    for (const img of e.fx.images) {
      await t.test(`${UPSTREAM}/${img.reference} (${img.kind})`, () => {
        const namespace = ns();
        const ref = `${UPSTREAM}/${img.reference}`;
        if (img.kind === "oci-artifact") {
          // An artifact has no rootfs to unpack: fetch it, as clients of artifacts do.
          cd.ctr(["content", "fetch", "--hosts-dir", hostsDir, ref], namespace);
        } else {
          cd.ctr(["images", "pull", "--hosts-dir", hostsDir, ref], namespace);
          assert.equal(digestOf(namespace, ref), img.digest);
        }
        const have = cd.ctr(["content", "ls", "-q"], namespace).stdout;
        assert.ok(have.includes(img.digest), "manifest fetched");
        // containerd verified the digest while writing; it kept the file's exact bytes.
        assert.equal(
          cd.ctr(["content", "get", img.digest], namespace).stdout,
          fs.readFileSync(img.manifestPath, "utf8"),
        );
        const platform = hostPlatform();
        const child = img.children.find((c) => c.platform === platform);
        const wanted = child
          ? [child.digest, child.config.digest, ...child.layers.map((l) => l.digest)]
          : img.blobs.map((b) => b.digest);
        for (const d of wanted) assert.ok(have.includes(d), `${d} fetched`);
      });
    }

    const multi = e.fx.images.filter((i) => i.features.includes("multi-arch"));
    assert.ok(multi.length > 0);
    for (const img of multi) {
      await t.test(`${img.repo}@${img.digest} --platform linux/arm64`, () => {
        const namespace = ns();
        const ref = `${UPSTREAM}/${img.repo}@${img.digest}`;
        cd.ctr(["images", "pull", "--hosts-dir", hostsDir, "--platform", "linux/arm64", ref], namespace);
        const arm = img.children.find((c) => c.platform === "linux/arm64")!;
        const have = cd.ctr(["content", "ls", "-q"], namespace).stdout;
        for (const d of [arm.digest, arm.config.digest, ...arm.layers.map((l) => l.digest)])
          assert.ok(have.includes(d));
      });
    }
  });

  test("drift guard fails, naming what is missing, on a node whose copy lost a blob", async (t) => {
    if (!ready(t)) return;
    const e = await env();
    // The other node's copy: the same tree (hardlinked), minus one layer, plus one changed manifest.
    const other = path.join(scratch("pod-other-node"), "images");
    run("cp", ["-al", e.fx.root, other]);
    const victim = e.fx.images.find((i) => i.reference === "library/alpine:3.19") ?? e.fx.images[0];
    const layer = victim.layers[victim.layers.length - 1] ?? victim.blobs[0];
    const layerRel = path.relative(e.fx.root, path.join(victim.path, hex(layer.digest)));
    fs.rmSync(path.join(other, layerRel));
    const edited = e.fx.images.find((i) => i.kind === "docker-manifest" && i !== victim)!;
    const editedRel = path.relative(e.fx.root, edited.manifestPath);
    fs.rmSync(path.join(other, editedRel)); // break the hardlink before writing
    fs.writeFileSync(
      path.join(other, editedRel),
      fs.readFileSync(edited.manifestPath, "utf8").replace(/}\s*$/, " }"),
    );
    // A blob only root can read (nginx, UID 101, could not serve it).
    const locked = e.fx.images.find(
      (i) => i !== victim && i !== edited && i.source === "dir" && i.blobs.length > 0,
    )!;
    const lockedBlob = locked.blobs[0];
    const lockedRel = path.relative(e.fx.root, path.join(locked.path, hex(lockedBlob.digest)));
    fs.rmSync(path.join(other, lockedRel));
    fs.copyFileSync(path.join(e.fx.root, lockedRel), path.join(other, lockedRel));
    fs.chmodSync(path.join(other, lockedRel), 0o600);

    const layout = layoutVolumes(e.pod, e.configMaps, path.join(e.work, "other-node"), (p) =>
      p === e.fx.root ? other : p,
    );
    const r = runContainer(e, e.pod.initContainers[0], layout, "-other-node");
    assert.equal(r.status, 1, `the drift guard must fail:\n${r.stderr}`);
    assert.match(
      r.stderr,
      new RegExp(
        `drift-guard: missing blob ${layer.digest} \\(${layer.size} bytes\\) at ${layerRel}, needed by [^\\s]+`,
      ),
    );
    assert.match(
      r.stderr,
      new RegExp(
        `drift-guard: different manifest ${edited.digest} at ${editedRel}: its sha256 is [a-f0-9]{64}`,
      ),
    );
    assert.match(
      r.stderr,
      new RegExp(
        `drift-guard: unreadable blob ${lockedBlob.digest} at ${lockedRel} \\(not a regular file readable by uid 101\\)`,
      ),
    );
    assert.match(r.stderr, /drift-guard: FAILED: 3 problem\(s\)/);
  });

  test("a config split over many ConfigMaps is projected into one dir and served", async (t) => {
    if (!ready(t)) return;
    const root = path.join(scratch("pod-big-images"), "images");
    const tree = writeSyntheticTree(root, { repos: 20, tagsPerRepo: 20 });
    const metricsPort = await freePort();
    const p = await deployPod("podbig", root, { maxConfigMapBytes: 64 * 1024, metricsPort });
    assert.ok(p.configMaps.size >= 5, `${p.configMaps.size} ConfigMaps`);
    assert.equal(p.pod.volumes[0].projected.sources.length, p.configMaps.size);

    const guard = runContainer(p, p.pod.initContainers[0]);
    assert.equal(guard.status, 0, guard.stderr);
    assert.match(guard.stderr, /drift-guard: OK: 400 manifests and 800 blobs/);

    const server = await startNginx(p);
    for (const t0 of [tree.tags[0], tree.tags[199], tree.tags[399]]) {
      const raw = run("skopeo", [
        "inspect",
        "--raw",
        "--tls-verify=false",
        `docker://${p.out.nodeEndpoint}/${t0.repo}:${t0.tag}`,
      ]);
      assert.equal(sha256(Buffer.from(raw.stdout)), t0.digest);
    }
    const tags = JSON.parse(
      run("skopeo", [
        "list-tags",
        "--tls-verify=false",
        `docker://${p.out.nodeEndpoint}/${tree.tags[0].repo}`,
      ]).stdout,
    );
    assert.equal(tags.Tags.length, 20);

    // The metrics port the pod declares answers Prometheus text.
    const declared = p.pod.containers[0].ports.find((x: any) => x.name === "metrics").containerPort;
    assert.equal(declared, metricsPort);
    const metrics = await request(declared, "GET", "/metrics");
    assert.equal(metrics.status, 200);
    assert.match(metrics.body.toString(), /^nginx_up 1$/m);
    assert.match(metrics.body.toString(), /^nginx_http_requests_total \d+$/m);

    // The pull log on the container's stdout (what kubectl logs shows), read by the README's
    // kubectl line: the manifests pulled, by whom (flushed at least every second).
    await new Promise((r) => setTimeout(r, 1500));
    const kubectlJq = [
      ...fs
        .readFileSync(path.join(REPO_ROOT, "README.md"), "utf8")
        .matchAll(/^kubectl logs .*\| jq -rR '([^']+)'/gm),
    ];
    assert.equal(kubectlJq.length, 1, "the README's kubectl logs line");
    const pulled = run("jq", ["-rR", kubectlJq[0][1]], { input: server.output() }).stdout;
    for (const t0 of [tree.tags[0], tree.tags[199], tree.tags[399]])
      assert.ok(pulled.includes(`127.0.0.1 ${t0.repo}@${t0.digest}`), `${t0.repo}:${t0.tag} in\n${pulled}`);
    await server.stop();
  });

  test("nginx stops cleanly: on SIGTERM it exits 0 by itself, not killed by a signal", async (t) => {
    if (!ready(t)) return;
    const e = await env();
    assert.ok(e.nginx);
    await e.nginx.stop();
    const { exitCode, signalCode } = e.nginx.proc;
    assert.deepEqual({ exitCode, signalCode }, { exitCode: 0, signalCode: null }, e.nginx.output());
  });
});
