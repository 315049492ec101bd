/**
 * Continuity on simulated nodes (test/support/nodeSim.ts): three nodes, each
 * with a dedicated disk mounted at `hostPath.path`, bootstrapped by the
 * component with workload `StaticPod` — its remote steps run over SSH exactly
 * as registered: the delivery onto the disk, the registry image, the wiring,
 * the registry's static pod and the wiring watcher's static pod, both then run
 * as the node's kubelet would (podSim). On every node a kubelet's pull loop
 * runs through CRI (pull, check the digest, remove, next) while
 *
 *   (a) each node's registry in turn is stopped and started again (a roll),
 *   (b) one node's registry is killed and stays down for a while,
 *   (c) one node is cut off (its namespace drops every packet that reaches
 *       it: a client's connection hangs instead of being refused) while
 *       another node's own registry is down, so that node's pulls fall back
 *       past the cut-off node,
 *
 * and every pull must succeed with the expected digest. The pull times of
 * each case are reported (p50/max): a pull that waited on the cut-off node
 * would take 30 s per request (containerd 1.6 has no dial timeout).
 *
 * Then a hostPath that holds someone else's files is refused and left as it
 * was, and the delete steps leave the disks empty and the nodes unwired.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { parse } from "yaml";
import { planDelivery, type DeliveryPlan } from "../../src/nodes/delivery";
import { installMocks, resourcesOf, settle, type Registered } from "../kubernetes/mocks";
import { containerEnv, containerRun, layoutVolumes } from "../kubernetes/podSim";
import { startNodes, waitForNodeHttp, type NodeSim, type SimNode } from "../support/nodeSim";
import { childPids } from "../support/procs";
import { startPullLoop, summarize, type PullLoop, type PullRecord } from "../support/pullLoop";
import { inCI, run, startProcess, type Server } from "../support/tools";
import { buildFixtures, scratch, stopAll, type Fixtures } from "./harness";
import { layoutImagesDir, nodeWorld, remoteSteps, StepRunner } from "./nodeSteps";

/* eslint-disable @typescript-eslint/no-explicit-any */

const UP_A = "a.example.invalid";
const UP_B = "b.example.invalid";
const REGISTRY_IMAGE = "registry.example.invalid/static-container-registry/nginx:1.27";
/** A dedicated disk on every node. */
const DISK = "/var/lib/scr-disk";
const PORT = 5000;
const NAME = "cont";
const MANIFESTS = "/etc/kubernetes/manifests";

/** Fixture tag dirs → where they go in the two-host images dir; each is pulled in the loops. */
const LAYOUT: Record<string, string> = {
  "library/alpine/3.19": `${UP_A}/library/alpine/3.19`,
  "multi/docker-list/1.0": `${UP_A}/multi/docker-list/1.0`,
  "shared/base/1": `${UP_B}/shared/base/1`,
};

interface World {
  sim: NodeSim;
  fx: Fixtures;
  res: Registered[];
  plan: DeliveryPlan;
  runner: StepRunner;
  /** Reference → manifest digest, for the pull loops. */
  images: Map<string, string>;
  registries: Map<string, Server>;
  watchers: Map<string, Server>;
  /** When each node's registry was down (from its stop or kill to its restart being ready). */
  down: { node: string; from: number; to: number }[];
}

let world: World | undefined;
let setupError: unknown;
const running: Server[] = [];

const ready = (t: TestContext) => nodeWorld(t, world, setupError);

before(async () => {
  if (process.getuid?.() !== 0 && !inCI) return;
  try {
    const fx = await buildFixtures();
    const dir = layoutImagesDir(fx.root, LAYOUT, "continuity-images");
    const archive = path.join(scratch("continuity-archive"), "registry-image.tar");
    run("skopeo", [
      "copy",
      "-q",
      `dir:${path.join(fx.root, "busybox/1.36")}`,
      `docker-archive:${archive}:${REGISTRY_IMAGE}`,
    ]);
    const sim = await startNodes([{ disks: [DISK] }, { disks: [DISK] }, { disks: [DISK] }]);
    await installMocks();
    const kube = await import("../../src/kubernetes");
    new kube.StaticContainerRegistry(NAME, {
      imagesDir: dir,
      hostPath: { path: DISK },
      workload: "StaticPod",
      port: PORT,
      nodes: sim.nodes.map((n) => ({
        name: n.name,
        connection: { host: n.host, port: n.port, user: n.user, privateKey: sim.privateKey },
      })),
      registryImage: { archive },
    } as any);
    await settle();
    const images = new Map<string, string>();
    for (const [from, to] of Object.entries(LAYOUT)) {
      const img = fx.images.find((i) => path.relative(fx.root, i.path) === from)!;
      images.set(`${path.dirname(to)}:${path.basename(to)}`, img.digest);
    }
    world = {
      sim,
      fx,
      res: resourcesOf(NAME),
      plan: planDelivery(dir),
      runner: new StepRunner(sim, scratch("continuity-keys")),
      images,
      registries: new Map(),
      watchers: new Map(),
      down: [],
    };
  } catch (e) {
    setupError = e;
  }
});

after(async () => {
  for (const s of running) await s.stop();
  await world?.sim.stop();
  await stopAll();
});

/** Every process of the tree under `pid`. */
function tree(pid: number): number[] {
  return [pid, ...childPids(pid).flatMap(tree)];
}

/** The static pod `file` in the node's manifests dir, read as its kubelet would. */
function manifest(n: SimNode, file: string): any {
  return parse(fs.readFileSync(n.path(`${MANIFESTS}/${file}`), "utf8"));
}

/** argv of one container of a static pod on node `n` (in its mount and network namespaces). */
function container(n: SimNode, pod: any, c: any, label: string): string[] {
  const work = scratch(`continuity-${n.name}-${label}`);
  const layout = layoutVolumes(pod.spec, new Map(), work, (p) => n.path(p));
  const r = containerRun(pod.spec, c, layout, work);
  return ["nsenter", "-t", String(n.holderPid), "-m", "-n", "--", r.cmd, ...r.args];
}

/** The registry's static pod on `n`: the drift guard, then nginx, ready on the node's loopback. */
async function startRegistry(w: World, n: SimNode, label: string): Promise<Server> {
  const pod = manifest(n, `${NAME}.yaml`);
  const guard = container(n, pod, pod.spec.initContainers[0], `${label}-guard`);
  const g = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const s = startProcess(guard[0], guard.slice(1), { env: containerEnv() });
    s.proc.once("exit", (code) => resolve({ code, out: s.output() }));
  });
  assert.equal(g.code, 0, `drift guard on ${n.name}:\n${g.out}`);
  const argv = container(n, pod, pod.spec.containers[0], label);
  const server = startProcess(argv[0], argv.slice(1), { env: containerEnv() });
  running.push(server);
  await waitForNodeHttp(n, PORT, "/v2/", server);
  w.registries.set(n.name, server);
  const down = w.down.find((d) => d.node === n.name && d.to === Infinity);
  if (down) down.to = Date.now();
  return server;
}

/** The registry on `n` goes away: stopped as the kubelet stops a pod, or killed with every process. */
async function stopRegistry(w: World, n: SimNode, how: "stop" | "kill") {
  const s = w.registries.get(n.name)!;
  w.registries.delete(n.name);
  w.down.push({ node: n.name, from: Date.now(), to: Infinity });
  if (how === "stop") return s.stop();
  const exited = new Promise<void>((r) => (s.proc.exitCode !== null ? r() : s.proc.once("exit", () => r())));
  for (const pid of tree(s.pid)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
  await exited;
}

/** The [host] endpoints of `host`'s hosts.toml on `n`, in order. */
function hostsOf(n: SimNode, host: string): string[] {
  const text = fs.readFileSync(n.path(`/etc/containerd/certs.d/${host}/hosts.toml`), "utf8");
  return [...text.matchAll(/^\[host\."[a-z]+:\/\/([^/"]+)/gm)].map((m) => m[1]);
}

async function waitUntil(what: string, ok: () => boolean, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("continuity on simulated nodes (static pods, dedicated disks)", () => {
  test("the steps run over SSH: images on each node's disk, the registry and the wiring watcher as static pods", async (t) => {
    const w = ready(t);
    if (!w) return;
    for (const n of w.sim.nodes) {
      const steps = remoteSteps(w.res, NAME, n.name);
      const results = await w.runner.node(steps, w.plan, scratch("continuity-staging"), n.name);
      t.diagnostic(
        `${n.name}: ${results.map((x) => `${x.step.replace(`${NAME}-`, "")}=${x.status} ${x.ms}ms`).join(", ")}`,
      );
      for (const x of results) assert.equal(x.status, 0, `${x.step}:\n${x.stderr}`);
      assert.deepEqual(
        steps.map((s) => s.name.slice(`${NAME}-${n.name}-`.length)),
        ["prepare", "images", "deliver", "registry-image", "import", "wire", "static-pod", "keep-wired"],
      );
      // The images are on the disk, in the store, and nothing was written beside it.
      assert.equal(n.exec(["mountpoint", "-q", DISK]).status, 0);
      assert.equal(fs.readlinkSync(n.path(`${DISK}/current`)), `sets/${w.plan.setId}`);
      assert.deepEqual(
        n
          .exec(["sh", "-c", `ls -A ${path.dirname(DISK)} | grep scr-disk`])
          .stdout.trim()
          .split("\n"),
        ["scr-disk"],
      );
      // The registry pod mounts its own set; every node's hosts.toml lists its own registry, then every node.
      const pod = manifest(n, `${NAME}.yaml`);
      const images = pod.spec.volumes.find((v: any) => v.name === "images");
      assert.equal(images.hostPath.path, `${DISK}/sets/${w.plan.setId}`);
      assert.deepEqual(hostsOf(n, UP_A), [
        `127.0.0.1:${PORT}`,
        ...w.sim.nodes.map((m) => `${m.host}:${PORT}`),
      ]);
    }
    for (const n of w.sim.nodes) await startRegistry(w, n, "first");
    for (const n of w.sim.nodes) {
      const pod = manifest(n, `${NAME}-wiring.yaml`);
      const argv = container(n, pod, pod.spec.containers[0], "watcher");
      const s = startProcess(argv[0], argv.slice(1), { env: { ...containerEnv(), NODE_NAME: n.name } });
      running.push(s);
      w.watchers.set(n.name, s);
    }
  });

  test("pulls through CRI never fail and never wait out a dead node: a roll, a crash, a node cut off", async (t) => {
    const w = ready(t);
    if (!w) return;
    const [n1, n2, n3] = w.sim.nodes;
    const loops: PullLoop[] = w.sim.nodes.map((n) => startPullLoop(n.name, n.cri(), w.images));
    const phases: { name: string; from: number; to: number }[] = [];
    const phase = async (name: string, body: () => Promise<unknown>) => {
      const from = Date.now();
      await body();
      phases.push({ name, from, to: Date.now() });
    };
    try {
      await phase("all up", () => sleep(4000));
      await phase("(a) roll: each node's registry stopped and started again in turn", async () => {
        for (const n of w.sim.nodes) {
          await stopRegistry(w, n, "stop");
          await sleep(3000);
          await startRegistry(w, n, `roll-${n.name}`);
          await sleep(1000);
        }
      });
      await phase("(b) node-2's registry killed, down for 10 s", async () => {
        await stopRegistry(w, n2, "kill");
        await sleep(10000);
      });
      await startRegistry(w, n2, "back");
      await waitUntil(`${n3.name}'s watcher lists ${n2.name} again`, () =>
        hostsOf(n3, UP_A).includes(`${n2.host}:${PORT}`),
      );
      await phase(
        `(c) ${n1.name} cut off (packets dropped), ${n3.name}'s registry down: it falls back past ${n1.name}`,
        async () => {
          const drop = n1.exec(["iptables", "-A", "INPUT", "-i", "eth0", "-j", "DROP"]);
          assert.equal(drop.status, 0, drop.stderr);
          try {
            await waitUntil(`${n3.name}'s watcher leaves ${n1.name} out`, () =>
              [UP_A, UP_B].every((h) => !hostsOf(n3, h).includes(`${n1.host}:${PORT}`)),
            );
            // A pull reads hosts.toml once, when it starts: let those that began with the old list end.
            await sleep(1000);
            await stopRegistry(w, n3, "stop");
            await sleep(8000);
            await startRegistry(w, n3, "after-cut");
          } finally {
            n1.exec(["iptables", "-D", "INPUT", "-i", "eth0", "-j", "DROP"]);
          }
        },
      );
    } finally {
      await Promise.all(loops.map((l) => l.stop()));
    }
    const records: PullRecord[] = loops.flatMap((l) => l.records);
    const of = (node: string) => records.filter((r) => r.node === node);
    const line = (what: string, s: ReturnType<typeof summarize>) =>
      `${what}: ${s.pulls} pulls, p50 ${s.p50} ms, max ${s.max} ms, ${s.failed.length} failed`;
    for (const p of phases)
      for (const n of w.sim.nodes)
        t.diagnostic(line(`${p.name} — ${n.name}`, summarize(of(n.name), p.from, p.to)));
    for (const d of w.down)
      t.diagnostic(line(`${d.node} while its own registry was down`, summarize(of(d.node), d.from, d.to)));
    const failed = records.filter((r) => r.error !== undefined);
    assert.deepEqual(
      failed.map((r) => `${r.node} ${r.ref}: ${r.error}`),
      [],
      "no failed pull",
    );
    for (const p of phases)
      for (const n of w.sim.nodes)
        assert.ok(summarize(of(n.name), p.from, p.to).pulls > 0, `${n.name} pulled during ${p.name}`);
    // A node whose own registry is down keeps pulling from the others: it never waits on the cut-off
    // node, which would hold one pull for the whole window.
    for (const d of w.down)
      assert.ok(
        summarize(of(d.node), d.from, d.to).pulls >= 3,
        `${d.node} kept pulling while its registry was down (${d.to - d.from} ms)`,
      );
  });

  test("a hostPath that holds someone else's files is refused, naming the node and them, and left as it was", async (t) => {
    const w = ready(t);
    if (!w) return;
    const n1 = w.sim.nodes[0];
    const theirs = "/var/lib/scr-theirs";
    n1.exec([
      "sh",
      "-c",
      `mkdir -p ${theirs}/db && echo precious > ${theirs}/db/data && echo mine > ${theirs}/notes`,
    ]);
    const before = n1.exec(["sh", "-c", `cd ${theirs} && find . | sort && cat db/data notes`]).stdout;
    await installMocks();
    const kube = await import("../../src/kubernetes");
    new kube.StaticContainerRegistry("foreign", {
      imagesDir: w.plan.imagesDir,
      hostPath: { path: theirs },
      workload: "StaticPod",
      port: PORT + 1,
      nodes: [
        {
          name: n1.name,
          connection: { host: n1.host, port: n1.port, user: n1.user, privateKey: w.sim.privateKey },
        },
      ],
    } as any);
    await settle();
    const prepare = remoteSteps(resourcesOf("foreign"), "foreign", n1.name).find((r) =>
      r.name.endsWith("-prepare"),
    )!;
    const r = w.runner.command(prepare);
    assert.notEqual(r.status, 0);
    assert.equal(
      r.stderr.trim(),
      `static-container-registry: node ${n1.name}: ${theirs} holds files that are not static-container-registry's (db notes): ` +
        "hostPath.path must be an empty directory, a mount point of its own or a path that does not exist; nothing was changed",
    );
    assert.equal(n1.exec(["sh", "-c", `cd ${theirs} && find . | sort && cat db/data notes`]).stdout, before);
  });

  test("the delete steps, in reverse order, leave the disks empty and the nodes as they were", async (t) => {
    const w = ready(t);
    if (!w) return;
    for (const n of w.sim.nodes) {
      const steps = remoteSteps(w.res, NAME, n.name);
      const del = (kind: string) => {
        const r = w.runner.command(
          steps.find((s) => s.name.endsWith(`-${kind}`))!,
          "delete",
        );
        assert.equal(r.status, 0, `${kind} delete on ${n.name}:\n${r.stderr}`);
      };
      // The kubelet stops a static pod whose manifest is gone: the test plays the kubelet.
      del("keep-wired");
      await w.watchers.get(n.name)?.stop();
      del("static-pod");
      await w.registries.get(n.name)?.stop();
      for (const kind of ["wire", "import", "deliver", "prepare"]) del(kind);
      assert.equal(n.exec(["mountpoint", "-q", DISK]).status, 0, "the disk stays mounted");
      assert.equal(n.exec(["ls", "-A", DISK]).stdout, "", `${n.name}: the disk is empty`);
      assert.equal(n.exec(["ls", "-A", "/etc/containerd/certs.d"]).stdout, "", `${n.name}: nothing wired`);
      assert.equal(n.exec(["ls", "-A", MANIFESTS]).stdout, "", `${n.name}: no static pod`);
      assert.equal(n.ctr(["images", "ls", "-q"]).stdout, "", `${n.name}: no image left in containerd`);
    }
  });
});
