/**
 * The component with `workload: "DaemonSet"` under Pulumi's mocks: a
 * DaemonSet instead of the Deployment (no PodDisruptionBudget), on the host
 * network (or with a hostPort), the Service routing to Ready pods on any node,
 * the node endpoint and the hosts.toml on the node's loopback then the
 * Service's cluster IP (the fallback while the node's own pod is down), the
 * namespace labelled for what the mode needs; every object against the
 * Kubernetes schema.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { before, describe, test } from "node:test";
import type * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { installMocks, one, resourcesOf, settle, valueOf, type Registered } from "./mocks";
import { baselineViolations } from "./podSecurity";
import { schemaErrors, unknownFieldErrors } from "./schema";
import { containerdHostsTomls } from "../../src/nodes/wiring";
import { writeSyntheticTree } from "./synthetic";
import { tmpDir } from "../support/tools";

/* eslint-disable @typescript-eslint/no-explicit-any */

type Kube = typeof import("../../src/kubernetes");
let kube: Kube;
let imagesDir: string;

before(async () => {
  await installMocks();
  kube = await import("../../src/kubernetes");
  imagesDir = path.join(tmpDir("k8s-daemonset"), "images");
  writeSyntheticTree(imagesDir, { repos: 2, tagsPerRepo: 2 });
});

const T = {
  daemonSet: "kubernetes:apps/v1:DaemonSet",
  deployment: "kubernetes:apps/v1:Deployment",
  pdb: "kubernetes:policy/v1:PodDisruptionBudget",
  service: "kubernetes:core/v1:Service",
  namespace: "kubernetes:core/v1:Namespace",
};

async function deploy(name: string, extra: Record<string, unknown>) {
  const reg = new kube.StaticContainerRegistry(name, {
    imagesDir,
    hostPath: { path: "/var/lib/images", anyNode: true },
    upstreamHost: "ds.registry.invalid",
    workload: "DaemonSet",
    ...extra,
  });
  const out: Record<string, any> = {};
  for (const k of [
    "workload",
    "workloadName",
    "deploymentName",
    "nodeEndpoint",
    "hostsToml",
    "registriesYaml",
  ])
    out[k] = await valueOf((reg as any)[k] as pulumi.Output<unknown>);
  await settle();
  const res = resourcesOf(name);
  const objects = res.filter((r) => r.type.startsWith("kubernetes:")).map((r) => r.inputs);
  for (const o of objects) assert.deepEqual(schemaErrors(o), [], `${o.kind} fails the Kubernetes schema`);
  assert.deepEqual(unknownFieldErrors(objects), []);
  return { out, res };
}

const types = (res: Registered[]) => res.map((r) => r.type);

describe("component with workload DaemonSet", () => {
  test("a DaemonSet on the host network, no Deployment or PDB; nodes pull from 127.0.0.1, then through the Service", async () => {
    const { out, res } = await deploy("ds", { createNamespace: true, namespace: "registry" });
    assert.ok(!types(res).includes(T.deployment));
    assert.ok(!types(res).includes(T.pdb));
    const ds = one(res, T.daemonSet, "ds");
    assert.equal(ds.inputs.metadata.namespace, "registry");
    assert.equal(out.workload, "DaemonSet");
    assert.equal(out.workloadName, ds.state.metadata.name);
    assert.equal(out.deploymentName, ds.state.metadata.name);

    const spec = ds.inputs.spec;
    assert.deepEqual(spec.updateStrategy, {
      type: "RollingUpdate",
      rollingUpdate: { maxSurge: 0, maxUnavailable: 1 },
    });
    const pod = spec.template.spec;
    assert.equal(pod.hostNetwork, true);
    assert.deepEqual(pod.containers[0].ports, [
      { name: "http", containerPort: 5000, hostPort: 5000, protocol: "TCP" },
    ]);
    assert.deepEqual(pod.volumes[1], {
      name: "images",
      hostPath: { path: "/var/lib/images", type: "Directory" },
    });
    assert.deepEqual(pod.tolerations, [
      { key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" },
    ]);
    assert.match(
      spec.template.metadata.annotations["static-container-registry/content-hash"],
      /^[a-f0-9]{64}$/,
    );
    // Beyond "baseline": exactly the host network, its port and the images' hostPath.
    assert.deepEqual(baselineViolations(pod).sort(), [
      "host namespaces: hostNetwork=true",
      "hostPath volumes: images",
      "hostPorts: nginx 5000",
    ]);

    const svc = one(res, T.service, "ds");
    assert.equal(svc.inputs.spec.internalTrafficPolicy, undefined, "Ready pods on any node");
    assert.equal(out.nodeEndpoint, "127.0.0.1:5000");
    assert.deepEqual(
      [...out.hostsToml.matchAll(/^\[host\."([^"]+)"\]$/gm)].map((m: RegExpMatchArray) => m[1]),
      ["http://127.0.0.1:5000", `http://${svc.state.spec.clusterIP}:5000`],
    );
    assert.deepEqual(parse(out.registriesYaml).mirrors["ds.registry.invalid"].endpoint, [
      "http://127.0.0.1:5000",
      `http://${svc.state.spec.clusterIP}:5000`,
    ]);

    const ns = one(res, T.namespace, "ds-ns");
    assert.equal(ns.inputs.metadata.labels["pod-security.kubernetes.io/enforce"], "privileged");
  });

  test("hostNetwork false: the pod's port is a hostPort on each node, still reached at 127.0.0.1", async () => {
    const { out, res } = await deploy("dsport", {
      hostNetwork: false,
      existingClaim: { claimName: "images" },
      hostPath: undefined,
      port: 5050,
      createNamespace: true,
      namespace: "registry-port",
    });
    const pod = one(res, T.daemonSet, "dsport").inputs.spec.template.spec;
    assert.equal(pod.hostNetwork, undefined);
    assert.deepEqual(pod.containers[0].ports, [
      { name: "http", containerPort: 5050, hostPort: 5050, protocol: "TCP" },
    ]);
    assert.deepEqual(baselineViolations(pod), ["hostPorts: nginx 5050"]);
    assert.equal(out.nodeEndpoint, "127.0.0.1:5050");
    // A hostPort is beyond "baseline" too.
    const ns = one(res, T.namespace, "dsport-ns");
    assert.equal(ns.inputs.metadata.labels["pod-security.kubernetes.io/enforce"], "privileged");
  });

  test("wiringDaemonSet: a ConfigMap of the hosts.toml texts and a DaemonSet that writes them on the registry's nodes", async () => {
    const { out, res } = await deploy("dswire", {
      wiringDaemonSet: true,
      hostPath: { path: "/var/lib/images", nodeNames: ["node-a", "node-b"] },
    });
    const cm = one(res, "kubernetes:core/v1:ConfigMap", "dswire-wiring");
    assert.equal(cm.inputs.immutable, true);
    assert.equal(cm.inputs.data["hosts.list"].split("\n")[1], "ds.registry.invalid hosts-0.toml");
    assert.equal(cm.inputs.data["hosts-0.toml"], out.hostsToml);
    assert.match(cm.inputs.data["wire-hosts.sh"], /^#!\/bin\/sh/);

    const wiring = one(res, T.daemonSet, "dswire-wiring");
    const registry = one(res, T.daemonSet, "dswire");
    const pod = wiring.inputs.spec.template.spec;
    assert.deepEqual(pod.volumes[0], {
      name: "wiring",
      configMap: { name: cm.state.metadata.name, defaultMode: 0o444 },
    });
    // The nodes pull from their own loopback: only the nodes that run a registry pod are wired.
    assert.deepEqual(pod.affinity, registry.inputs.spec.template.spec.affinity);
    assert.deepEqual(
      pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms,
      [
        {
          matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["node-a", "node-b"] }],
        },
      ],
    );
    // The registry's selector never matches a wiring pod (its Service would send clients there).
    const sel = registry.inputs.spec.selector.matchLabels;
    const wiringLabels = wiring.inputs.spec.template.metadata.labels;
    assert.ok(Object.entries(sel).some(([k, v]) => wiringLabels[k] !== v));
    const svc = one(res, T.service, "dswire");
    assert.ok(Object.entries(svc.inputs.spec.selector).some(([k, v]) => wiringLabels[k] !== v));
  });

  test("wiringDaemonSet: one hosts.toml per upstream host of the images dir, the same texts as the SSH wiring", async () => {
    const multi = path.join(tmpDir("k8s-ds-multi"), "images");
    writeSyntheticTree(multi, {
      repos: 2,
      tagsPerRepo: 1,
      repoName: (i) => [`registry.k8s.io/app${i}`, `quay.io/team/app${i}`][i],
    });
    const { res } = await deploy("dsmulti", { imagesDir: multi, wiringDaemonSet: true });
    const data = one(res, "kubernetes:core/v1:ConfigMap", "dsmulti-wiring").inputs.data;
    const want = containerdHostsTomls({
      endpoint: "127.0.0.1:5000",
      repositories: ["registry.k8s.io/app0", "quay.io/team/app1"],
      upstreamHost: "ds.registry.invalid",
      fallbacks: [`${one(res, T.service, "dsmulti").state.spec.clusterIP}:5000`],
    });
    const listed = data["hosts.list"]
      .split("\n")
      .filter((l: string) => l !== "" && !l.startsWith("#"))
      .map((l: string) => l.split(" "));
    assert.deepEqual(
      listed.map(([host]: string[]) => host),
      ["ds.registry.invalid", "quay.io", "registry.k8s.io"],
    );
    for (const [host, file] of listed) assert.equal(data[file], want[host], host);
  });

  test("wiringDaemonSet with a Deployment behind a NodePort: every node is wired", async () => {
    const { res } = await deploy("depwire", {
      workload: "Deployment",
      serviceType: "NodePort",
      nodePort: 30555,
      wiringDaemonSet: true,
    });
    const pod = one(res, T.daemonSet, "depwire-wiring").inputs.spec.template.spec;
    assert.equal(pod.affinity, undefined);
    assert.equal(pod.nodeSelector, undefined);
    assert.deepEqual(pod.tolerations, [{ operator: "Exists" }]);
    const cm = one(res, "kubernetes:core/v1:ConfigMap", "depwire-wiring");
    assert.match(cm.inputs.data["hosts-0.toml"], /\[host\."http:\/\/127\.0\.0\.1:30555"\]/);
  });

  test("replicas or an unknown workload are refused at construction, with every problem", () => {
    assert.throws(
      () =>
        new kube.StaticContainerRegistry("dsbad", {
          imagesDir,
          hostPath: { path: "/var/lib/images", anyNode: true },
          workload: "StatefulSet" as any,
          port: 80,
        }),
      (e: Error) =>
        e.name === "InvalidArgsError" &&
        e.message.includes('workload must be one of Deployment, DaemonSet, StaticPod, not "StatefulSet"') &&
        e.message.includes("port must be a whole number in 1024-65535"),
    );
    assert.throws(
      () =>
        new kube.StaticContainerRegistry("dsbad2", {
          imagesDir,
          hostPath: { path: "/var/lib/images", anyNode: true },
          workload: "DaemonSet",
          replicas: 2,
        }),
      /replicas has no meaning with workload DaemonSet/,
    );
  });
});
