/**
 * The component with `workload: "DaemonSet"` under Pulumi's mocks: a
 * DaemonSet instead of the Deployment (no PodDisruptionBudget), on the host
 * network (or with a hostPort), the Service with `internalTrafficPolicy:
 * Local`, the node endpoint and the hosts.toml on the node's loopback, the
 * namespace labelled for what the mode needs; every object against the
 * Kubernetes schema.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { before, describe, test } from "node:test";
import type * as pulumi from "@pulumi/pulumi";
import { installMocks, one, resourcesOf, settle, valueOf, type Registered } from "./mocks";
import { baselineViolations } from "./podSecurity";
import { schemaErrors, unknownFieldErrors } from "./schema";
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
  test("a DaemonSet on the host network, no Deployment or PDB; Service Local; nodes pull from 127.0.0.1", async () => {
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
    assert.equal(svc.inputs.spec.internalTrafficPolicy, "Local");
    assert.equal(out.nodeEndpoint, "127.0.0.1:5000");
    assert.match(out.hostsToml, /^\[host\."http:\/\/127\.0\.0\.1:5000"\]$/m);
    assert.match(out.registriesYaml, /http:\/\/127\.0\.0\.1:5000/);

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
        e.message.includes('workload must be one of Deployment, DaemonSet, not "StatefulSet"') &&
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
