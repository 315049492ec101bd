/**
 * The static pod on a simulated node (test/support/nodeSim.ts), end to end:
 * the component with workload `StaticPod` is constructed under mocks; its
 * remote steps for the node run over SSH exactly as registered (prepare,
 * images, deliver, wire, the static pod, the wiring watcher); the manifest is read
 * back from the node's manifests dir and run as its kubelet would (podSim:
 * drift guard, then nginx with the manifest's command, user and read-only
 * hostPath mounts, in the node's mount and network namespaces); the node's
 * containerd pulls every image through CRI, as its kubelet would, through the
 * hosts.toml the wire step wrote, and skopeo from the LAN. Then the deletes of
 * the wiring watcher and of the static pod leave neither manifest nor files
 * on the node.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { parse } from "yaml";
import { planDelivery } from "../../src/nodes/delivery";
import { stagingRoot } from "../../src/kubernetes/steps/nodes";
import { DEFAULT_UPSTREAM_HOST } from "../../src/kubernetes/args";
import { installMocks, resourcesOf, settle } from "../kubernetes/mocks";
import { containerEnv, containerRun, layoutVolumes } from "../kubernetes/podSim";
import { nodeSimReady, startNodes, waitForNodeHttp, type NodeSim } from "../support/nodeSim";
import { requireTool, startProcess, type Server } from "../support/tools";
import { writeSyntheticTree } from "../kubernetes/synthetic";
import { buildFixtures, scratch, stopAll } from "./harness";
import { remoteSteps, StepRunner, unsecret } from "./nodeSteps";

/* eslint-disable @typescript-eslint/no-explicit-any */

const HOST_PATH = "/var/lib/scr-static-images";
const PORT = 5000;
const MANIFEST = "/etc/kubernetes/manifests/boot.yaml";

let sim: NodeSim | undefined;
const running: Server[] = [];
after(async () => {
  for (const s of running) await s.stop();
  await sim?.stop();
  await stopAll();
});

describe("static pod on a simulated node", () => {
  test("placed over SSH, run as the kubelet would, pulled from by the node's containerd and by skopeo; delete removes it", async (t) => {
    if (!nodeSimReady(t)) return;
    for (const tool of ["skopeo", "nginx", "curl", "setpriv"]) if (!requireTool(t, tool)) return;
    const fx = await buildFixtures();
    sim = await startNodes([{}]);
    const node = sim.nodes[0];

    await installMocks();
    const kube = await import("../../src/kubernetes");
    new kube.StaticContainerRegistry("boot", {
      imagesDir: fx.root,
      hostPath: { path: HOST_PATH },
      workload: "StaticPod",
      port: PORT,
      nodes: [
        {
          name: node.name,
          connection: { host: node.host, port: node.port, user: node.user, privateKey: sim.privateKey },
        },
      ],
    } as any);
    await settle();
    const res = resourcesOf("boot");
    assert.deepEqual(
      res.filter((r) => r.type.startsWith("kubernetes:")),
      [],
    );
    const steps = remoteSteps(res, "boot", node.name);
    assert.deepEqual(
      steps.map((r) => r.name.slice(`boot-${node.name}-`.length)),
      ["prepare", "images", "deliver", "wire", "static-pod", "keep-wired"],
    );
    const staticPodStep = steps.find((r) => r.name.endsWith("-static-pod"))!;
    const keepWiredStep = steps.find((r) => r.name.endsWith("-keep-wired"))!;

    // The engine's order: the node steps, the static pod after the delivery, the watcher after the wiring.
    const runner = new StepRunner(sim, scratch("static-pod-keys"));
    const results = await runner.node(steps, planDelivery(fx.root), stagingRoot("boot"), node.name);
    for (const r of results) assert.equal(r.status, 0, `${r.step}:\n${r.stderr}`);
    assert.match(results[4].stdout, /static pod \/etc\/kubernetes\/manifests\/boot\.yaml placed/);
    assert.match(results[5].stdout, /wiring watcher \/etc\/kubernetes\/manifests\/boot-wiring\.yaml placed/);

    // What the kubelet reads: the manifest in its manifests dir, its hostPaths on the node's disk.
    const pod: any = parse(fs.readFileSync(node.path(MANIFEST), "utf8"));
    assert.equal(pod.kind, "Pod");
    assert.equal(pod.spec.hostNetwork, true);
    const run = (container: any, label: string) => {
      const work = scratch(`static-pod-node-${label}`);
      const layout = layoutVolumes(pod.spec, new Map(), work, (p) => node.path(p));
      const c = containerRun(pod.spec, container, layout, work);
      return node.enter([c.cmd, ...c.args]);
    };
    const guard = run(pod.spec.initContainers[0], "guard");
    const g = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const s = startProcess(guard[0], guard.slice(1), { env: containerEnv() });
      s.proc.once("exit", (code) => resolve({ code, out: s.output() }));
    });
    assert.equal(g.code, 0, g.out);
    assert.match(g.out, /drift-guard: OK: \d+ manifests and \d+ blobs/);

    const argv = run(pod.spec.containers[0], "nginx");
    const nginx = startProcess(argv[0], argv.slice(1), { env: containerEnv() });
    running.push(nginx);
    await waitForNodeHttp(node, PORT, "/v2/", nginx);

    // The node's containerd, as its kubelet asks (CRI), through the hosts.toml the wire step wrote,
    // by the images' names.
    const images = fx.images.filter((i) => i.kind !== "oci-artifact");
    const cri = node.cri();
    for (const img of images) {
      const ref = `${DEFAULT_UPSTREAM_HOST}/${img.reference}`;
      await cri.pull(ref);
      const st = await cri.status(ref);
      assert.ok(
        st?.repoDigests.some((d) => d.endsWith(`@${img.digest}`)),
        `${ref} is ${img.digest}, not ${JSON.stringify(st?.repoDigests)}`,
      );
      await cri.remove(ref);
    }
    // And from the LAN: other machines reach it on the node's address.
    const inspect = sim.inLan([
      "skopeo",
      "inspect",
      "--raw",
      "--tls-verify=false",
      `docker://${node.host}:${PORT}/${images[0].reference}`,
    ]);
    const raw = await new Promise<string>((resolve) => {
      const s = startProcess(inspect[0], inspect.slice(1));
      s.proc.once("exit", () => resolve(s.output()));
    });
    assert.equal(raw, fs.readFileSync(images[0].manifestPath, "utf8"));
    // The catalog page is there (on by default in every workload).
    const page = sim.inLan(["curl", "-fsS", `http://${node.host}:${PORT}/`]);
    const html = await new Promise<string>((resolve) => {
      const s = startProcess(page[0], page.slice(1));
      s.proc.once("exit", () => resolve(s.output()));
    });
    assert.match(html, /<!doctype html>/i);

    await nginx.stop();
    const unwatched = runner.command(keepWiredStep, "delete");
    assert.equal(unwatched.status, 0, unwatched.stderr);
    assert.ok(
      !fs.existsSync(node.path("/etc/kubernetes/manifests/boot-wiring.yaml")),
      "watcher manifest removed",
    );
    assert.ok(!fs.existsSync(node.path("/etc/static-container-registry/boot-wiring")), "its files removed");
    const removed = runner.command(staticPodStep, "delete");
    assert.equal(removed.status, 0, removed.stderr);
    assert.ok(!fs.existsSync(node.path(MANIFEST)), "manifest removed");
    assert.ok(!fs.existsSync(node.path("/etc/static-container-registry/boot")), "config dirs removed");
    assert.ok(fs.existsSync(path.dirname(node.path(MANIFEST))), "the manifests dir itself stays");
  });

  // One command text reaches the node's shell as one argument, which Linux caps at 128 KiB (E2BIG);
  // the maps of a few thousand tags (and the catalog page) are more than that.
  test("a static pod whose config is far over 128 KiB is placed whole, each file byte for byte", async (t) => {
    if (!nodeSimReady(t)) return;
    sim ??= await startNodes([{}]);
    const node = sim.nodes[0];
    const imagesDir = path.join(scratch("static-pod-big"), "images");
    writeSyntheticTree(imagesDir, {
      repos: 3,
      tagsPerRepo: 1500,
      repoName: (i) => `registry.k8s.io/big${i}`,
    });

    await installMocks();
    const kube = await import("../../src/kubernetes");
    new kube.StaticContainerRegistry("big", {
      imagesDir,
      hostPath: { path: HOST_PATH },
      workload: "StaticPod",
      port: PORT + 1,
      nodes: [
        {
          name: node.name,
          connection: { host: node.host, port: node.port, user: node.user, privateKey: sim.privateKey },
        },
      ],
    } as any);
    await settle();
    const step = remoteSteps(resourcesOf("big"), "big", node.name).find((r) =>
      r.name.endsWith("-static-pod"),
    )!;
    const script: string = unsecret(step.inputs.stdin);
    assert.ok(Buffer.byteLength(script) > 1024 * 1024, `the script is ${Buffer.byteLength(script)} bytes`);

    const runner = new StepRunner(sim, scratch("static-pod-big-keys"));
    const placed = runner.command(step);
    assert.equal(placed.status, 0, placed.stderr);
    assert.match(placed.stdout, /static pod \/etc\/kubernetes\/manifests\/big\.yaml placed/);
    // Every file the step carries is on the node as it was rendered.
    const pod: any = parse(fs.readFileSync(node.path("/etc/kubernetes/manifests/big.yaml"), "utf8"));
    const configDir: string = pod.spec.volumes.find((v: any) => v.hostPath?.type === "Directory").hostPath
      .path;
    const onNode = fs.readdirSync(node.path(configDir)).sort();
    assert.ok(onNode.length > 3, onNode.join(" "));
    let bytes = 0;
    for (const name of onNode) {
      const text = fs.readFileSync(node.path(`${configDir}/${name}`), "utf8");
      bytes += Buffer.byteLength(text);
      assert.ok(script.includes(`\n${text}`), `${name} as rendered`);
    }
    assert.ok(bytes > 512 * 1024, `${bytes} bytes of config placed`);

    const removed = runner.command(step, "delete");
    assert.equal(removed.status, 0, removed.stderr);
    assert.ok(!fs.existsSync(node.path("/etc/kubernetes/manifests/big.yaml")), "manifest removed");
  });
});
