/**
 * The static pod, run as a kubelet would run it (podSim.ts): the files
 * `staticPod()` returns are placed under a directory standing for the node's
 * root, with their modes; the manifest is read back from there; its hostPath
 * volumes are those files and the images; the drift guard init container and
 * nginx run with the manifest's exact commands, user and read-only mounts on
 * this machine's network (the pod's host network); skopeo and containerd
 * (through the hosts.toml the component would output for 127.0.0.1) pull
 * every fixture from it.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test, type TestContext } from "node:test";
import { parse } from "yaml";
import { validateArgs } from "../../src/kubernetes/args";
import { containerdHostsToml } from "../../src/nodes/wiring";
import { planRegistry } from "../../src/kubernetes/plan";
import { staticPod, type StaticPod } from "../../src/kubernetes/staticPod";
import { DEFAULT_RESOURCES } from "../../src/kubernetes/args";
import { buildFixtures, once, scratch, startContainerd, stopAll, type Fixtures } from "../e2e/harness";
import { assertSameImage, pullToDir } from "../support/skopeo";
import { freePort, run, type Server } from "../support/tools";
import {
  layoutVolumes,
  podSimReady,
  runContainer as runInPod,
  startContainer,
  type VolumeLayout,
} from "./podSim";
import { schemaErrors } from "./schema";

/* eslint-disable @typescript-eslint/no-explicit-any */

const UPSTREAM = "static-pod.registry.invalid";
/** Where the simulated node holds the images. */
const NODE_IMAGES = "/var/lib/static-container-registry/images";

/** What every test here needs: the pod simulation, nginx and skopeo (and `more`). */
const ready = (t: TestContext, ...more: string[]) => podSimReady(t, "nginx", "skopeo", ...more);

interface Env {
  fx: Fixtures;
  port: number;
  sp: StaticPod;
  /** The Pod as the kubelet reads it from the node's manifests dir. */
  pod: any;
  nodeRoot: string;
  layout: VolumeLayout;
  work: string;
}

/** Places the files as the node steps do: parent dirs, content, mode. */
function place(nodeRoot: string, sp: StaticPod) {
  for (const f of sp.files) {
    const p = path.join(nodeRoot, f.path);
    fs.mkdirSync(path.dirname(p), { recursive: true, mode: 0o755 });
    fs.writeFileSync(p, f.content);
    fs.chmodSync(p, parseInt(f.mode, 8));
  }
}

const env = once(async (): Promise<Env> => {
  const fx = await buildFixtures();
  const port = await freePort();
  const a = validateArgs("boot", {
    imagesDir: fx.root,
    hostPath: { path: NODE_IMAGES, anyNode: true },
    port,
  });
  const plan = await planRegistry("boot", a);
  const sp = staticPod({
    name: "boot",
    args: { ...a, image: "registry.invalid/nginx:1", resources: DEFAULT_RESOURCES },
    plan,
    imagesPath: NODE_IMAGES,
  });
  const nodeRoot = scratch("static-pod-node");
  place(nodeRoot, sp);
  const pod = parse(fs.readFileSync(path.join(nodeRoot, sp.manifestPath), "utf8"));
  const work = scratch("static-pod-sim");
  // The node's paths are under nodeRoot, except the images, which are the fixtures.
  const layout = layoutVolumes(pod.spec, new Map(), work, (p) =>
    p === NODE_IMAGES ? fx.root : path.join(nodeRoot, p),
  );
  return { fx, port, sp, pod, nodeRoot, layout, work };
});

const running: Server[] = [];
after(async () => {
  for (const s of running) await s.stop();
  await stopAll();
});

function runContainer(e: Env, container: any, suffix = "") {
  return runInPod(e.pod.spec, container, e.layout, path.join(e.work, `run-${container.name}${suffix}`));
}

describe("static pod on the pod simulation", () => {
  let nginx: Server | undefined;

  test("the manifest on the node is a valid Pod whose config dir holds the rendered files, read-only to all", async (t) => {
    if (!ready(t)) return;
    const e = await env();
    assert.deepEqual(schemaErrors(e.pod), []);
    const dir = path.join(e.nodeRoot, e.sp.configDir);
    assert.deepEqual(
      fs.readdirSync(dir).sort(),
      e.sp.files.slice(0, -1).map((f) => path.basename(f.path)),
    );
    for (const f of fs.readdirSync(dir)) assert.equal(fs.statSync(path.join(dir, f)).mode & 0o777, 0o444);
    assert.equal(fs.statSync(path.join(e.nodeRoot, e.sp.manifestPath)).mode & 0o777, 0o600);
  });

  test("the drift guard init container passes on the node's images", async (t) => {
    if (!ready(t)) return;
    const e = await env();
    const r = runContainer(e, e.pod.spec.initContainers[0]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /drift-guard: OK: \d+ manifests and \d+ blobs/);
  });

  test("the containers run as 101 with no capabilities; root, config and images are read-only", async (t) => {
    if (!ready(t)) return;
    const e = await env();
    const probe = {
      ...e.pod.spec.containers[0],
      name: "probe",
      command: [
        "sh",
        "-c",
        [
          'echo "uid=$(id -u) gid=$(id -g)"',
          "grep -E '^(CapEff|NoNewPrivs):' /proc/self/status",
          ...["/", "/etc/static-container-registry", "/srv/static-container-registry"].map(
            (p) =>
              `if touch '${p}/.probe' 2>/dev/null; then echo '${p} writable'; else echo '${p} read-only'; fi`,
          ),
        ].join("\n"),
      ],
    };
    const r = runContainer(e, probe);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^uid=101 gid=101$/m);
    assert.match(r.stdout, /^CapEff:\s+0+$/m);
    assert.match(r.stdout, /^NoNewPrivs:\s+1$/m);
    assert.doesNotMatch(r.stdout, /writable/);
  });

  test("nginx starts with the manifest's command and answers its readiness probe on the node's port", async (t) => {
    if (!ready(t)) return;
    const e = await env();
    const c = e.pod.spec.containers[0];
    const port = c.ports[0].hostPort;
    assert.equal(port, e.port);
    nginx = await startContainer(e.pod.spec, c, e.layout, path.join(e.work, "run-nginx"), port);
    running.push(nginx);
    const res = run("curl", [
      "-fsS",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      `http://127.0.0.1:${port}${c.readinessProbe.httpGet.path}`,
    ]);
    assert.equal(res.stdout, "200");
  });

  test("skopeo copies every fixture from it byte for byte", async (t) => {
    if (!ready(t)) return;
    const e = await env();
    assert.ok(nginx, "nginx is running");
    const out = scratch("static-pod-skopeo");
    for (const img of e.fx.images) {
      const dest = path.join(out, img.repo, img.tag);
      pullToDir(`127.0.0.1:${e.port}`, img.reference, dest);
      assertSameImage(dest, img);
    }
  });

  test("containerd on the node pulls through hosts.toml pointing at 127.0.0.1", async (t) => {
    if (!ready(t, "containerd", "ctr")) return;
    const e = await env();
    assert.ok(nginx, "nginx is running");
    const cd = await startContainerd();
    const hostsDir = scratch("static-pod-hosts");
    fs.mkdirSync(path.join(hostsDir, UPSTREAM));
    fs.writeFileSync(
      path.join(hostsDir, UPSTREAM, "hosts.toml"),
      containerdHostsToml({ upstreamHost: UPSTREAM, endpoint: `127.0.0.1:${e.port}` }),
    );
    const images = e.fx.images.filter((i) => i.kind !== "oci-artifact");
    assert.ok(images.length >= 3);
    images.forEach((img, i) => {
      const ref = `${UPSTREAM}/${img.reference}`;
      cd.ctr(["images", "pull", "--hosts-dir", hostsDir, ref], `static-${i}`);
      const line = cd
        .ctr(["images", "ls"], `static-${i}`)
        .stdout.split("\n")
        .find((l) => l.startsWith(ref + " "));
      assert.ok(line, `${ref} pulled`);
      assert.equal(line.trim().split(/\s+/)[2], img.digest);
    });
  });

  test("nginx stops cleanly: on SIGTERM it exits 0 by itself, not killed by a signal", async (t) => {
    if (!ready(t)) return;
    assert.ok(nginx);
    await nginx.stop();
    const { exitCode, signalCode } = nginx.proc;
    assert.deepEqual({ exitCode, signalCode }, { exitCode: 0, signalCode: null }, nginx.output());
  });
});
