/**
 * TLS trust delivered to SSH nodes (test/support/nodeSim.ts): the component
 * with `tls` — its Secret's name an Output of a Secret made in the same
 * program, the CA certificate a secret — and a registry on every node
 * (DaemonSet). The wire step places the CA where hosts.toml points on each
 * node; containerd then pulls over HTTPS through CRI with no manual step: on
 * node-1 from its own registry, on node-2 (whose registry is down) through the
 * Service's cluster IP, which routes to ready pods only (kube-proxy, as
 * test/support/serviceProxy.ts programs it). The delete removes the CA.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { planDelivery } from "../../src/nodes/delivery";
import { installMocks, one, resourcesOf, settle } from "../kubernetes/mocks";
import { configMapsOf, containerEnv, containerRun, layoutVolumes } from "../kubernetes/podSim";
import { nodeSimReady, startNodes, type NodeSim } from "../support/nodeSim";
import { startServiceProxy, type ServiceProxy } from "../support/serviceProxy";
import { makeTestCa } from "../support/tls";
import { requireTool, run, runAny, startProcess, type Server } from "../support/tools";
import { buildFixtures, scratch, stopAll } from "./harness";
import { isSecretValue, remoteSteps, StepRunner } from "./nodeSteps";

/* eslint-disable @typescript-eslint/no-explicit-any */

const UP = "tls.example.invalid";
const REGISTRY_IMAGE = "registry.example.invalid/static-container-registry/nginx:1.27";
const HOST_PATH = "/var/lib/scr-tls-images";
const PORT = 5000;
const NAME = "tlsnodes";
const CLUSTER_IP = "10.43.0.10"; // what the mocks allocate
const CA_FILE = "/etc/static-container-registry/ca.crt";

let sim: NodeSim | undefined;
let proxy: ServiceProxy | undefined;
const running: Server[] = [];
after(async () => {
  for (const s of running) await s.stop();
  proxy?.stop();
  await sim?.stop();
  await stopAll();
});

describe("TLS trust delivered to the nodes", () => {
  test("the CA is placed where hosts.toml points; CRI pulls over HTTPS from the node's own registry and through the Service; the delete removes it", async (t) => {
    if (!nodeSimReady(t)) return;
    for (const tool of ["skopeo", "nginx", "curl", "setpriv", "openssl", "iptables"])
      if (!requireTool(t, tool)) return;
    const fx = await buildFixtures();
    const dir = path.join(scratch("tls-nodes-images"), "images");
    fs.mkdirSync(path.join(dir, UP, "library", "alpine"), { recursive: true });
    run("cp", ["-a", path.join(fx.root, "library/alpine/3.19"), path.join(dir, UP, "library/alpine/3.19")]);
    const img = fx.images.find((i) => i.reference === "library/alpine:3.19")!;
    const archive = path.join(scratch("tls-nodes-archive"), "registry-image.tar");
    run("skopeo", [
      "copy",
      "-q",
      `dir:${path.join(fx.root, "busybox/1.36")}`,
      `docker-archive:${archive}:${REGISTRY_IMAGE}`,
    ]);
    sim = await startNodes([{}, {}]);
    const [n1, n2] = sim.nodes;
    const ca = makeTestCa(scratch("tls-nodes-ca"), "scr-nodes", [CLUSTER_IP, n1.host, n2.host]);
    const pem = fs.readFileSync(ca.caCert, "utf8");

    await installMocks();
    const pulumi = await import("@pulumi/pulumi");
    const k8s = await import("@pulumi/kubernetes");
    const kube = await import("../../src/kubernetes");
    // The Secret made in the same program (as cert-manager's Certificate or a k8s.core.v1.Secret would be).
    const secret = new k8s.core.v1.Secret("registry-tls", {
      type: "kubernetes.io/tls",
      stringData: {
        "tls.crt": fs.readFileSync(ca.serverCert, "utf8"),
        "tls.key": fs.readFileSync(ca.serverKey, "utf8"),
      },
    });
    new kube.StaticContainerRegistry(NAME, {
      imagesDir: dir,
      hostPath: { path: HOST_PATH },
      workload: "DaemonSet",
      port: PORT,
      tls: { secretName: secret.metadata.name, caCertificate: pulumi.secret(pem) },
      nodes: sim.nodes.map((n) => ({
        name: n.name,
        connection: { host: n.host, port: n.port, user: n.user, privateKey: sim!.privateKey },
      })),
      registryImage: { archive },
    } as any);
    await settle();
    const res = resourcesOf(NAME);

    const runner = new StepRunner(sim, scratch("tls-nodes-keys"));
    for (const n of sim.nodes) {
      const steps = remoteSteps(res, NAME, n.name);
      const wire = steps.find((s) => s.name.endsWith("-wire"))!;
      assert.ok(isSecretValue(wire.inputs.create), "the wire step's text carries the CA as a secret");
      const results = await runner.node(steps, planDelivery(dir), scratch("tls-nodes-staging"), n.name);
      for (const x of results) assert.equal(x.status, 0, `${x.step}:\n${x.stderr}`);
      const placed = fs.readFileSync(n.path(CA_FILE), "utf8");
      assert.ok(placed.endsWith(pem.trim() + "\n"), `${n.name}: the CA is at ${CA_FILE}`);
      const toml = fs.readFileSync(n.path(`/etc/containerd/certs.d/${UP}/hosts.toml`), "utf8");
      assert.deepEqual(
        [...toml.matchAll(/^\[host\."([^"]+)"\]$/gm)].map((m) => m[1]),
        [`https://127.0.0.1:${PORT}/v2/${UP}`, `https://${CLUSTER_IP}:${PORT}/v2/${UP}`],
      );
      assert.equal((toml.match(new RegExp(`ca = "${CA_FILE}"`, "g")) ?? []).length, 2);
    }

    // node-1 runs its registry pod (HTTPS, the Secret mounted); node-2's is down.
    const ds = one(res, "kubernetes:apps/v1:DaemonSet", NAME);
    const pod = ds.inputs.spec.template.spec;
    // The Secret's name as the Output resolved (the auto-named Secret's).
    const secretName = pod.volumes.find((v: any) => v.secret).secret.secretName;
    assert.equal(
      secretName,
      one(resourcesOf("registry-tls"), "kubernetes:core/v1:Secret", "registry-tls").state.metadata.name,
    );
    const secrets = new Map([
      [
        secretName,
        {
          "tls.crt": fs.readFileSync(ca.serverCert, "utf8"),
          "tls.key": fs.readFileSync(ca.serverKey, "utf8"),
        },
      ],
    ]);
    const work = scratch("tls-nodes-pod");
    const layout = layoutVolumes(pod, configMapsOf(res), work, (p) => n1.path(p), secrets);
    const guard = containerRun(pod, pod.initContainers[0], layout, work);
    const g = runAny("nsenter", ["-t", String(n1.holderPid), "-m", "-n", "--", guard.cmd, ...guard.args], {
      env: containerEnv(),
    });
    assert.equal(g.status, 0, g.stderr);
    const c = containerRun(pod, pod.containers[0], layout, work);
    const nginx = startProcess("nsenter", ["-t", String(n1.holderPid), "-m", "-n", "--", c.cmd, ...c.args], {
      env: containerEnv(),
    });
    running.push(nginx);
    const deadline = Date.now() + 15000;
    while (
      n1.exec(["curl", "-sf", "--cacert", CA_FILE, "-o", "/dev/null", `https://127.0.0.1:${PORT}/v2/`])
        .status !== 0
    ) {
      if (nginx.proc.exitCode !== null || Date.now() > deadline)
        throw new Error(`registry pod did not start:\n${nginx.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    proxy = startServiceProxy(sim.nodes, CLUSTER_IP, PORT);
    proxy.setReady([`${n1.host}:${PORT}`]);

    for (const n of sim.nodes) {
      const ref = `${UP}/library/alpine:3.19`;
      const cri = n.cri();
      await cri.pull(ref);
      const st = await cri.status(ref);
      assert.ok(
        st?.repoDigests.some((d) => d.endsWith(`@${img.digest}`)),
        `${n.name}: ${ref} is ${img.digest} (${JSON.stringify(st?.repoDigests)})`,
      );
      await cri.remove(ref);
    }

    // The delete: the CA goes with the wiring.
    for (const n of sim.nodes) {
      const wire = remoteSteps(res, NAME, n.name).find((s) => s.name.endsWith("-wire"))!;
      const r = runner.command(wire, "delete");
      assert.equal(r.status, 0, r.stderr);
      assert.equal(fs.existsSync(n.path(CA_FILE)), false, `${n.name}: the CA is removed`);
      assert.equal(fs.existsSync(n.path(path.dirname(CA_FILE))), false, "with the directory it needed");
    }
  });
});
