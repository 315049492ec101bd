/**
 * The SSH path end to end, on simulated nodes (test/support/nodeSim.ts): the
 * component is constructed under Pulumi's mocks with `nodes`, `hostPath` and
 * `registryImage`; the remote steps it registered are run exactly as
 * registered, over SSH (test/e2e/nodeSteps.ts); the registry then runs on
 * each node as the pod simulation runs a pod (host network of the node), and
 * each node's containerd pulls images of two upstream hosts under their
 * original names through CRI, as its kubelet would, with no upstream
 * reachable; a node whose registry is down pulls through the Service's
 * cluster IP (kube-proxy's rules, test/support/serviceProxy.ts). Then a
 * second delivery under pull load, the failure cases, and the delete scripts.
 *
 * Nodes: node-1 and node-2 (complete), node-3 (containerd without the CRI
 * `config_path`), node-9 (registered, but no host answers at its address).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { planDelivery, type DeliveryPlan } from "../../src/nodes/delivery";
import { buildFixtures, scratch, stopAll, type Fixtures } from "./harness";
import { installMocks, one, resourcesOf, settle, type Registered } from "../kubernetes/mocks";
import { configMapsOf, containerEnv, containerRun, layoutVolumes } from "../kubernetes/podSim";
import { startNodes, waitForNodeHttp, type NodeSim, type SimNode } from "../support/nodeSim";
import { startServiceProxy } from "../support/serviceProxy";
import { inCI, run, runAny, startProcess, type Server } from "../support/tools";
import {
  isSecretValue,
  layoutImagesDir,
  nodeWorld,
  plainOccurrences,
  remoteSteps,
  StepRunner,
  type StepResult,
} from "./nodeSteps";

/* eslint-disable @typescript-eslint/no-explicit-any */

const UP_A = "a.example.invalid";
const UP_B = "b.example.invalid";
const REGISTRY_IMAGE = "registry.example.invalid/static-container-registry/nginx:1.27";
const HOST_PATH = "/var/lib/scr-images";
const PORT = 5000;
const UNREACHABLE = { name: "node-9", host: "10.77.0.99" };
const PREEXISTING = 'server = "https://b.example.invalid"\n[host."https://corp-mirror.example.invalid"]\n';

/** Fixture tag dirs → where they go in the two-host images dir. */
const V1: Record<string, string> = {
  "library/alpine/3.19": `${UP_A}/library/alpine/3.19`,
  "multi/docker-list/1.0": `${UP_A}/multi/docker-list/1.0`,
  "shared/base/1": `${UP_B}/shared/base/1`,
};
const V2: Record<string, string> = { ...V1, "shared/base/2": `${UP_B}/shared/base/2` };

interface Deployed {
  name: string;
  res: Registered[];
  pod: any;
  configMaps: Map<string, Record<string, string>>;
  plan: DeliveryPlan;
  imagesDir: string;
}

interface World {
  sim: NodeSim;
  fx: Fixtures;
  runner: StepRunner;
  v1: Deployed;
  before: Map<string, string>;
  results: Map<string, StepResult[]>;
  pods: Map<string, Server>;
  staging: string;
}

let world: World | undefined;
let setupError: unknown;
const running: Server[] = [];

const ready = (t: TestContext) => nodeWorld(t, world, setupError);

/** Everything a node's steps may touch, as text: to compare before and after. */
function nodeState(n: SimNode): string {
  const r = n.exec([
    "sh",
    "-c",
    "cd /etc/containerd && find . -type f | sort | xargs -r sha256sum; ls -a /var/lib; ctr -n k8s.io images ls -q",
  ]);
  return r.stdout + r.stderr;
}

async function deploy(name: string, dir: string, sim: NodeSim): Promise<Deployed> {
  await installMocks();
  const kube = await import("../../src/kubernetes");
  const args: Record<string, unknown> = {
    imagesDir: dir,
    hostPath: { path: HOST_PATH },
    // One registry pod per node, on the node's network: every node pulls from itself.
    workload: "DaemonSet",
    port: PORT,
    nodes: [
      ...sim.nodes.map((n) => ({
        name: n.name,
        connection: { host: n.host, port: n.port, user: n.user, privateKey: sim.privateKey },
      })),
      {
        name: UNREACHABLE.name,
        connection: { host: UNREACHABLE.host, user: "root", privateKey: sim.privateKey },
      },
    ],
    registryImage: { archive: archivePath },
  };
  new kube.StaticContainerRegistry(name, args as any);
  await settle();
  const res = resourcesOf(name);
  const configMaps = configMapsOf(res);
  const workload = one(res, "kubernetes:apps/v1:DaemonSet", name);
  return {
    name,
    res,
    pod: workload.inputs.spec.template.spec,
    configMaps,
    plan: planDelivery(dir),
    imagesDir: dir,
  };
}

let archivePath = "";

before(async () => {
  if (process.getuid?.() !== 0 && !inCI) return;
  try {
    const fx = await buildFixtures();
    archivePath = path.join(scratch("nodes-archive"), "registry-image.tar");
    run("skopeo", [
      "copy",
      "-q",
      `dir:${path.join(fx.root, "busybox/1.36")}`,
      `docker-archive:${archivePath}:${REGISTRY_IMAGE}`,
    ]);
    const sim = await startNodes([{}, {}, { configPath: false }]);
    // node-1 holds its own hosts.toml for b.example.invalid (the delete must restore it).
    const n1 = sim.nodes[0];
    n1.exec(
      [
        "sh",
        "-c",
        `mkdir -p /etc/containerd/certs.d/${UP_B} && cat > /etc/containerd/certs.d/${UP_B}/hosts.toml`,
      ],
      {
        input: PREEXISTING,
      },
    );
    const beforeState = new Map(sim.nodes.map((n) => [n.name, nodeState(n)]));
    const v1 = await deploy("nodes", layoutImagesDir(fx.root, V1, "nodes-v1"), sim);
    world = {
      sim,
      fx,
      runner: new StepRunner(sim, scratch("nodes-keys")),
      v1,
      before: beforeState,
      results: new Map(),
      pods: new Map(),
      staging: scratch("nodes-staging"),
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

/** Runs one container of `pod` on node `n` (its mount and network namespaces). */
function podContainer(w: World, n: SimNode, d: Deployed, container: any, label: string) {
  const work = path.join(scratch(`nodes-pod-${n.name}-${label}`));
  const layout = layoutVolumes(d.pod, d.configMaps, work, (p) => n.path(p));
  const c = containerRun(d.pod, container, layout, work);
  return n.enter([c.cmd, ...c.args]);
}

function runInit(w: World, n: SimNode, d: Deployed, label: string) {
  const argv = podContainer(w, n, d, d.pod.initContainers[0], label);
  return runAny(argv[0], argv.slice(1), { env: containerEnv() });
}

async function startPod(w: World, n: SimNode, d: Deployed, label: string): Promise<Server> {
  const guard = runInit(w, n, d, `${label}-guard`);
  assert.equal(guard.status, 0, `drift guard on ${n.name}:\n${guard.stderr}`);
  const argv = podContainer(w, n, d, d.pod.containers[0], label);
  const server = startProcess(argv[0], argv.slice(1), { env: containerEnv() });
  running.push(server);
  await waitForNodeHttp(n, PORT, "/v2/", server);
  w.pods.set(n.name, server);
  return server;
}

const complete = (w: World) => w.sim.nodes.slice(0, 2);

describe("nodes over SSH (simulated)", () => {
  test("the component registers its remote steps per node, the secrets as secrets", (t) => {
    const w = ready(t);
    if (!w) return;
    for (const n of [...w.sim.nodes.map((x) => x.name), UNREACHABLE.name]) {
      const steps = remoteSteps(w.v1.res, "nodes", n);
      assert.deepEqual(
        steps.map((s) => `${s.type} ${s.name.slice(`nodes-${n}-`.length)}`),
        [
          "command:remote:Command prepare",
          "command:remote:CopyToRemote images",
          "command:remote:Command deliver",
          "command:remote:CopyToRemote registry-image",
          "command:remote:Command import",
          "command:remote:Command wire",
        ],
      );
      for (const s of steps) {
        assert.ok(isSecretValue(s.inputs.connection), `${s.name}: the connection is a secret`);
        assert.equal(s.inputs.environment, undefined, "no value travels only as an env request");
      }
    }
    // The pods run the archive's image from the node's cache, on the nodes that hold the images.
    const c = w.v1.pod.containers[0];
    assert.equal(c.image, REGISTRY_IMAGE);
    assert.equal(c.imagePullPolicy, "IfNotPresent");
    const terms =
      w.v1.pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
    assert.deepEqual(terms[0].matchExpressions[0].values, ["node-1", "node-2", "node-3", "node-9"]);
    // The private key, given as a plain string, is a secret wherever it is recorded: the
    // component's own inputs, every child's inputs and state.
    const key = w.sim.privateKey.split("\n")[1];
    for (const r of w.v1.res)
      assert.deepEqual(
        [...plainOccurrences(r.inputs, key), ...plainOccurrences(r.state, key)],
        [],
        `${r.type} ${r.name}`,
      );
  });

  test("the registered create scripts run over SSH: nodes delivered, imported, wired; failures name their node", async (t) => {
    const w = ready(t);
    if (!w) return;
    for (const n of [...w.sim.nodes.map((x) => x.name), UNREACHABLE.name]) {
      const r = await w.runner.node(remoteSteps(w.v1.res, "nodes", n), w.v1.plan, w.staging, n);
      w.results.set(n, r);
      t.diagnostic(
        `${n}: ${r.map((x) => `${x.step.replace(/^nodes-/, "")}=${x.status} ${x.ms}ms`).join(", ")}`,
      );
    }
    for (const n of complete(w)) {
      const r: StepResult[] = w.results.get(n.name)!;
      assert.equal(r.length, 6, `${n.name}: every step ran`);
      for (const x of r) assert.equal(x.status, 0, `${x.step}:\n${x.stderr}`);
      assert.match(
        r[2].stdout,
        new RegExp(`node ${n.name}: ${HOST_PATH}/sets/${w.v1.plan.setId} is current`),
      );
      assert.equal(fs.readlinkSync(n.path(`${HOST_PATH}/current`)), `sets/${w.v1.plan.setId}`);
      const images = n.ctr(["images", "ls", "-q"]).stdout.split("\n");
      assert.ok(images.includes(REGISTRY_IMAGE), `${n.name}: the registry image was imported`);
    }
    // containerd without config_path: delivery and import done, wiring refused with the fix.
    const r3 = w.results.get("node-3")!;
    assert.deepEqual(
      r3.map((x) => x.status),
      [0, 0, 0, 0, 0, 1],
    );
    assert.match(
      r3[5].stderr,
      /static-container-registry: node node-3: containerd's CRI registry config_path is not set in \/etc\/containerd\/config.toml.*Fix: add  config_path = "\/etc\/containerd\/certs.d"  under  \[plugins."io.containerd.grpc.v1.cri".registry\]/,
    );
    // The unreachable node: its first step fails, with its resource name and address; nothing else is tried.
    const r9 = w.results.get(UNREACHABLE.name)!;
    assert.equal(r9.length, 2, "prepare and wire tried, the rest skipped");
    for (const x of r9) {
      assert.notEqual(x.status, 0);
      assert.match(x.step, /nodes-node-9-/);
      assert.match(
        x.stderr,
        new RegExp(`${UNREACHABLE.host.replace(/\./g, "\\.")}.*(No route to host|timed out|unreachable)`),
      );
    }
  });

  test("each node serves its copy and its containerd pulls from two upstream hosts by original names", async (t) => {
    const w = ready(t);
    if (!w) return;
    for (const n of complete(w)) {
      await startPod(w, n, w.v1, "v1");
      const hosts = n.exec(["ls", "/etc/containerd/certs.d"]).stdout.split("\n").filter(Boolean);
      assert.deepEqual(hosts.sort(), [UP_A, UP_B, "static-container-registry.invalid"].sort());
      for (const [from, to] of Object.entries(V1)) {
        const img = w.fx.images.find((i) => path.relative(w.fx.root, i.path) === from)!;
        const ref = `${to.split("/").slice(0, -1).join("/")}:${path.basename(to)}`;
        await criPull(n, ref, img.digest);
      }
    }
  });

  test("a node whose registry is down pulls through the Service, which routes to ready pods only (CRI)", async (t) => {
    const w = ready(t);
    if (!w) return;
    const [n1, n2] = complete(w);
    const svc = one(w.v1.res, "kubernetes:core/v1:Service", "nodes").state.spec.clusterIP;
    const toml = fs.readFileSync(n1.path(`/etc/containerd/certs.d/${UP_A}/hosts.toml`), "utf8");
    assert.deepEqual(
      [...toml.matchAll(/^\[host\."([^"]+)"\]$/gm)].map((m) => m[1]),
      [`http://127.0.0.1:${PORT}/v2/${UP_A}`, `http://${svc}:${PORT}/v2/${UP_A}`],
    );
    const proxy = startServiceProxy(complete(w), svc, PORT);
    try {
      // node-1's pod goes (the DaemonSet controller deletes it: its endpoint leaves first).
      proxy.setReady([`${n2.host}:${PORT}`]);
      await w.pods.get(n1.name)!.stop();
      const img = w.fx.images.find((i) => i.reference === "library/alpine:3.19")!;
      await criPull(n1, `${UP_A}/library/alpine:3.19`, img.digest);
      await startPod(w, n1, w.v1, "v1-back");
      proxy.setReady([`${n1.host}:${PORT}`, `${n2.host}:${PORT}`]);
    } finally {
      proxy.stop();
    }
  });

  test("a second delivery under pull load: no failed pull, the old set served until the roll, the new tag after it", async (t) => {
    const w = ready(t);
    if (!w) return;
    const v2 = await deploy("nodes2", layoutImagesDir(w.fx.root, V2, "nodes-v2"), w.sim);
    const urls = pullUrls(w.v1.plan);
    const stopFile = path.join(scratch("nodes-load"), "stop");
    const loads = complete(w).map((n) => {
      const s = startProcess("nsenter", [
        "-t",
        String(n.holderPid),
        "-n",
        "--",
        "sh",
        "-c",
        loadScript(urls, stopFile),
      ]);
      running.push(s);
      return s;
    });
    // The load is under way on both nodes before the delivery starts.
    for (const s of loads) await waitForRounds(s, 1);
    const t0 = Date.now();
    const delivered = new Map<string, StepResult[]>();
    for (const n of complete(w)) {
      // What an update runs: the steps whose inputs changed (the import and the wiring did not).
      const steps = remoteSteps(v2.res, "nodes2", n.name).filter((r) =>
        /-(prepare|images|deliver)$/.test(r.name),
      );
      const r = await w.runner.node(steps, v2.plan, w.staging, n.name);
      delivered.set(n.name, r);
      for (const x of r) assert.equal(x.status, 0, `${x.step}:\n${x.stderr}`);
    }
    const t1 = Date.now();
    fs.writeFileSync(stopFile, "");
    const counts = await Promise.all(
      loads.map(async (s) => {
        await new Promise<void>((r) => (s.proc.exitCode !== null ? r() : s.proc.once("exit", () => r())));
        const all = rounds(s.output());
        // Only rounds that began after the delivery started and ended before it was done count for it.
        const during = all.filter((x) => x.start >= t0 && x.end <= t1);
        const sum = (list: Round[], k: "ok" | "failed") => list.reduce((n, x) => n + x[k], 0);
        return {
          rounds: all.length,
          during: during.length,
          okDuring: sum(during, "ok"),
          failed: sum(all, "failed"),
          log: s.output(),
        };
      }),
    );
    const v1Objects = new Set(w.v1.plan.entries.map((e) => e.hex));
    const copied = v2.plan.entries.filter((e) => !v1Objects.has(e.hex));
    t.diagnostic(
      `delivery of ${v2.plan.entries.length} files (${new Set(copied.map((e) => e.hex)).size} new) to ${complete(w).length} nodes took ${t1 - t0} ms; ` +
        counts
          .map(
            (c, i) =>
              `${complete(w)[i].name}: ${c.rounds} rounds, ${c.during} of them during the delivery (${c.okDuring} requests ok)`,
          )
          .join("; ") +
        `; per node: ${[...delivered].map(([n, r]) => `${n} ${r.map((x) => `${x.step.split("-").pop()} ${x.ms}ms`).join(" ")}`).join(", ")}`,
    );
    for (const c of counts) {
      assert.equal(c.failed, 0, c.log);
      assert.ok(
        c.during > 0 && c.okDuring >= urls.length * c.during,
        `whole rounds of pulls ran during the delivery:\n${c.log}`,
      );
    }
    const newTag = `/v2/${UP_B}/shared/base/manifests/2`;
    for (const n of complete(w)) {
      assert.equal(fs.readlinkSync(n.path(`${HOST_PATH}/current`)), `sets/${v2.plan.setId}`);
      // Before the roll the pod serves the set it mounted, whole, and knows nothing of the new tag.
      const r = n.exec([
        "curl",
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        `http://127.0.0.1:${PORT}${newTag}`,
      ]);
      assert.equal(r.stdout, "404");
    }
    // The roll: the old pod goes first (host network), the new one starts from the new spec.
    for (const n of complete(w)) {
      await w.pods.get(n.name)!.stop();
      await startPod(w, n, v2, "v2");
      const ref = `${UP_B}/shared/base:2`;
      const img = w.fx.images.find((i) => i.reference === "shared/base:2")!;
      await criPull(n, ref, img.digest);
    }
  });

  test("a node whose copy lost a blob: the drift guard names the file", (t) => {
    const w = ready(t);
    if (!w) return;
    const n3 = w.sim.nodes[2];
    const victim = w.v1.plan.entries.find(
      (e) => e.path.startsWith(`${UP_A}/library/alpine/`) && /\/[0-9a-f]{64}$/.test(e.path),
    )!;
    fs.rmSync(n3.path(`${HOST_PATH}/sets/${w.v1.plan.setId}/${victim.path}`));
    const r = runInit(w, n3, w.v1, "lost-blob");
    assert.equal(r.status, 1, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `drift-guard: missing blob sha256:${victim.hex} \\(${victim.size} bytes\\) at ${victim.path.replace(/\./g, "\\.")}, needed by`,
      ),
    );
  });

  test("the delete scripts put every node back as it was", async (t) => {
    const w = ready(t);
    if (!w) return;
    for (const s of w.pods.values()) await s.stop();
    for (const n of w.sim.nodes) {
      const v2 = n.name !== "node-3" ? resourcesOf("nodes2") : undefined;
      const pick = (kind: string) =>
        (v2 && ["prepare", "deliver"].includes(kind)
          ? remoteSteps(v2, "nodes2", n.name)
          : remoteSteps(w.v1.res, "nodes", n.name)
        ).find((r) => r.name.endsWith(`-${kind}`))!;
      // Reverse dependency order; a step that failed (node-3's wiring) is not in the state, so not deleted.
      const kinds =
        n.name === "node-3" ? ["import", "deliver", "prepare"] : ["wire", "import", "deliver", "prepare"];
      for (const kind of kinds) {
        const r = w.runner.command(pick(kind), "delete");
        assert.equal(r.status, 0, `${r.step}:\n${r.stderr}`);
      }
      assert.equal(nodeState(n), w.before.get(n.name), `${n.name} is back as it was`);
    }
    assert.equal(
      fs.readFileSync(w.sim.nodes[0].path(`/etc/containerd/certs.d/${UP_B}/hosts.toml`), "utf8"),
      PREEXISTING,
    );
  });
});

/** A kubelet's pull of `ref` on `n` (CRI), which must record `digest`; the image is removed again. */
async function criPull(n: SimNode, ref: string, digest: string) {
  const cri = n.cri();
  await cri.pull(ref);
  const st = await cri.status(ref);
  assert.ok(
    st?.repoDigests.some((d) => d.endsWith(`@${digest}`)),
    `${n.name}: ${ref} is ${digest}, not ${JSON.stringify(st?.repoDigests)}`,
  );
  await cri.remove(ref);
}

/** Request paths for every manifest (by tag and by digest) and blob of a delivered tree. */
function pullUrls(plan: DeliveryPlan): string[] {
  const urls: string[] = [];
  for (const e of plan.entries) {
    const dir = path.posix.dirname(e.path);
    const repo = path.posix.dirname(dir);
    const file = path.posix.basename(e.path);
    if (file === "manifest.json") urls.push(`/v2/${repo}/manifests/${path.posix.basename(dir)}`);
    else if (/^[0-9a-f]{64}\.manifest\.json$/.test(file))
      urls.push(`/v2/${repo}/manifests/sha256:${file.slice(0, 64)}`);
    else if (/^[0-9a-f]{64}$/.test(file)) urls.push(`/v2/${repo}/blobs/sha256:${file}`);
  }
  return urls;
}

interface Round {
  /** When the round began and ended (ms since the epoch, the machine's clock, as Date.now()). */
  start: number;
  end: number;
  ok: number;
  failed: number;
}

/** The rounds a load script has printed so far. */
function rounds(output: string): Round[] {
  return [...output.matchAll(/^round (\d+) (\d+) (\d+) (\d+)$/gm)].map((m) => ({
    start: Number(m[1]),
    end: Number(m[2]),
    ok: Number(m[3]),
    failed: Number(m[4]),
  }));
}

/** Waits until the load script has printed `n` rounds. */
async function waitForRounds(s: Server, n: number, timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (rounds(s.output()).length < n) {
    assert.ok(
      s.proc.exitCode === null && Date.now() < deadline,
      `the load did not get going:\n${s.output()}`,
    );
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A pull loop on the node until `stop` exists: one curl per round fetches
 * every path over one connection; each round prints
 * "round <start ms> <end ms> <ok> <failed>" (ok = 200).
 */
function loadScript(urls: string[], stop: string): string {
  const accept = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
  ].join(", ");
  const targets = urls.map((u) => `-o /dev/null 'http://127.0.0.1:${PORT}${u}'`).join(" ");
  return `while [ ! -e '${stop}' ]; do
  start=$(date +%s%3N)
  codes=$(curl -s -H 'Accept: ${accept}' -w '%{http_code}\\n' ${targets})
  end=$(date +%s%3N)
  ok=$(printf '%s\\n' "$codes" | grep -c '^200$' || true)
  bad=$(printf '%s\\n' "$codes" | grep -vc '^200$' || true)
  echo "round $start $end $ok $bad"
  if [ "$bad" -gt 0 ]; then printf 'FAILED %s\\n' $codes >&2; fi
done
`;
}
