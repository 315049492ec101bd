/**
 * The component with workload `StaticPod` under Pulumi's mocks: no
 * Kubernetes object at all, one static-pod Command per SSH node after the
 * images and the registry image (its create places exactly the files
 * `staticPod()` builds, mounting the delivered set, its delete removes them),
 * the node wiring on the nodes' loopback then every node's address, the
 * wiring watcher's static pod after the wiring, and the arguments that make
 * no sense without a cluster refused. The placed pod runs on a simulated node in
 * test/e2e/staticPod.nodes.e2e.test.ts.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { before, describe, test } from "node:test";
import { planDelivery } from "../../src/nodes/delivery";
import { installMocks, resourcesOf, settle, valueOf } from "./mocks";
import { writeSyntheticTree } from "./synthetic";
import { tmpDir } from "../support/tools";

/* eslint-disable @typescript-eslint/no-explicit-any */

type Kube = typeof import("../../src/kubernetes");
let kube: Kube;
let imagesDir: string;
const nodes = [
  { name: "boot-1", connection: { host: "192.0.2.11", user: "root", password: "pw" } },
  { name: "boot-2", connection: { host: "192.0.2.12", user: "root", password: "pw" } },
];

before(async () => {
  await installMocks();
  kube = await import("../../src/kubernetes");
  imagesDir = path.join(tmpDir("k8s-static-pod"), "images");
  writeSyntheticTree(imagesDir, { repos: 2, tagsPerRepo: 1, repoName: (i) => `registry.k8s.io/app${i}` });
});

/** The script inside a node step's `asRoot` wrapper (`S='<script>'`, then `sh -c "$S"`). */
function asRootInner(text: string): string {
  const start = text.indexOf("S='") + "S='".length;
  return text.slice(start, text.indexOf("'\nif [", start)).replace(/'\\''/g, "'");
}

describe("component with workload StaticPod", () => {
  test("registers no Kubernetes object; each node gets the static pod after its images, and is wired to 127.0.0.1", async () => {
    const reg = new kube.StaticContainerRegistry("boot", {
      imagesDir,
      hostPath: { path: "/var/lib/images" },
      workload: "StaticPod",
      nodes,
      port: 5055,
      staticPodManifestsDir: "/var/lib/rancher/k3s/agent/pod-manifests",
    } as any);
    const out: Record<string, any> = {};
    for (const k of [
      "workload",
      "nodeEndpoint",
      "endpoint",
      "hostsToml",
      "configMapNames",
      "serviceName",
      "contentHash",
    ])
      out[k] = await valueOf((reg as any)[k]);
    await settle();
    const res = resourcesOf("boot");
    assert.deepEqual(
      res.filter((r) => r.type.startsWith("kubernetes:")).map((r) => r.name),
      [],
    );
    assert.equal(out.workload, "StaticPod");
    assert.equal(out.nodeEndpoint, "127.0.0.1:5055");
    assert.deepEqual(out.configMapNames, []);
    assert.equal(out.serviceName, "");

    const plan = await kube.planRegistry(
      "boot",
      kube.validateArgs("boot", { imagesDir, hostPath: { path: "/x", anyNode: true }, port: 5055 }),
    );
    const { staticPod } = await import("../../src/kubernetes/staticPod");
    // The pods mount the set the delivery builds, not hostPath.path itself.
    const setPath = `/var/lib/images/sets/${planDelivery(imagesDir).setId}`;
    // Every node's registry after the node's own, in the order of nodes.
    assert.deepEqual(
      [...out.hostsToml.matchAll(/^\[host\."([^"]+)"\]$/gm)].map((m: RegExpMatchArray) => m[1]),
      ["http://127.0.0.1:5055", "http://192.0.2.11:5055", "http://192.0.2.12:5055"],
    );
    for (const node of nodes) {
      const step = res.find((r) => r.name === `boot-${node.name}-static-pod`);
      assert.ok(step, `static pod step for ${node.name}`);
      assert.equal(step.type, "command:remote:Command");
      const sp = staticPod({
        name: "boot",
        args: {
          ...kube.validateArgs("boot", { imagesDir, hostPath: { path: "/x", anyNode: true } }),
          image: "x",
          resources: {},
        },
        plan,
        imagesPath: setPath,
        manifestsDir: "/var/lib/rancher/k3s/agent/pod-manifests",
      });
      // Every file, manifest last, in the script on the step's stdin (the command runs it as root);
      // the delete removes the manifest and the config dirs.
      assert.match(step.inputs.create, /then exec sh -s; else exec sudo -n sh -s; fi/);
      const create: string = step.inputs.stdin;
      assert.ok(create.startsWith("{\n") && create.endsWith("} </dev/null\n"), "parsed whole before it runs");
      assert.equal(plan.contentHash, out.contentHash);
      let at = 0;
      for (const f of sp.files) {
        const i = create.indexOf(`mv -f '${f.path}'.tmp.scr '${f.path}'`);
        assert.ok(i > at, `${f.path} written in order`);
        at = i;
      }
      assert.ok(create.includes(`/var/lib/rancher/k3s/agent/pod-manifests/boot.yaml`));
      for (const line of [
        "hostNetwork: true",
        `path: ${sp.configDir}`,
        `path: ${setPath}\n`,
        "priorityClassName: system-node-critical",
      ])
        assert.ok(create.includes(line), `the manifest in the script has ${line}`);
      const del = asRootInner(step.inputs.delete);
      assert.ok(del.includes("rm -f '/var/lib/rancher/k3s/agent/pod-manifests/boot.yaml'"), del);
      assert.ok(del.includes("rm -rf '/etc/static-container-registry/boot'"), del);
      const wire = res.find((r) => r.name === `boot-${node.name}-wire`);
      assert.ok(wire?.inputs.create.includes('[host."http://127.0.0.1:5055/v2/registry.k8s.io"]'));
      assert.ok(wire?.inputs.create.includes('[host."http://192.0.2.12:5055/v2/registry.k8s.io"]'));

      // The wiring watcher: its own static pod, probing every node's registry, not placed on k3s/RKE2.
      const watcher = res.find((r) => r.name === `boot-${node.name}-keep-wired`);
      assert.ok(watcher, `wiring watcher step for ${node.name}`);
      const placed = asRootInner(watcher.inputs.create);
      assert.ok(placed.includes("/var/lib/rancher/k3s/agent/pod-manifests/boot-wiring.yaml"));
      assert.ok(
        placed.includes(
          "192.0.2.11:5055 http://192.0.2.11:5055/v2/\n192.0.2.12:5055 http://192.0.2.12:5055/v2/",
        ),
      );
      assert.ok(placed.includes("- /host/etc/containerd/certs.d") && placed.includes('- "2"'), "every 2 s");
      assert.match(placed, /^if \[ -d \/etc\/rancher\/k3s \] \|\| \[ -d \/etc\/rancher\/rke2 \]; then$/m);
      const removed = asRootInner(watcher.inputs.delete);
      assert.ok(removed.includes("rm -f '/var/lib/rancher/k3s/agent/pod-manifests/boot-wiring.yaml'"));
      assert.ok(removed.includes("rm -rf '/etc/static-container-registry/boot-wiring'"));
    }
  });

  test("refuses what needs a cluster, and a static pod without nodes or hostPath", () => {
    assert.throws(
      () =>
        new kube.StaticContainerRegistry("bootbad", {
          imagesDir,
          existingClaim: { claimName: "c" },
          workload: "StaticPod",
          serviceType: "NodePort",
          wiringDaemonSet: true,
        }),
      (e: Error) =>
        e.name === "InvalidArgsError" &&
        [
          "workload StaticPod needs nodes",
          "workload StaticPod needs hostPath storage",
          "serviceType has no meaning with workload StaticPod",
          "wiringDaemonSet has no meaning with workload StaticPod",
        ].every((m) => e.message.includes(m)),
    );
  });
});
