/**
 * The StaticContainerRegistry component under Pulumi's mocks: every resource
 * it registers in each mode, field by field; every object against the
 * Kubernetes API schema (and the Pod Security levels the mode allows); the
 * outputs; and the failures (bad args, bad images tree).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, test } from "node:test";
import type * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { OUTPUTS, installMocks, one, resourcesOf, settle, valueOf, type Registered } from "./mocks";
import { REGISTRY_CONTAINER_SECURITY, restrictedViolations } from "./podSecurity";
import { schemaErrors, unknownFieldErrors } from "./schema";
import { writeSyntheticTree, type SyntheticTree } from "./synthetic";
import { run, tmpDir } from "../support/tools";

/* eslint-disable @typescript-eslint/no-explicit-any */

type Kube = typeof import("../../src/kubernetes");
type Plan = import("../../src/kubernetes").RegistryPlan;
let kube: Kube;
let workload: typeof import("../../src/kubernetes/workload");
let args: typeof import("../../src/kubernetes/args");
let labelsModule: typeof import("../../src/kubernetes/labels");

const T = {
  component: "static-container-registry:index:StaticContainerRegistry",
  namespace: "kubernetes:core/v1:Namespace",
  configMap: "kubernetes:core/v1:ConfigMap",
  deployment: "kubernetes:apps/v1:Deployment",
  service: "kubernetes:core/v1:Service",
  pdb: "kubernetes:policy/v1:PodDisruptionBudget",
  pv: "kubernetes:core/v1:PersistentVolume",
  pvc: "kubernetes:core/v1:PersistentVolumeClaim",
};

const CONFIG = "/etc/static-container-registry";
const IMAGES = "/srv/static-container-registry";
const RUNTIME = "/run/static-container-registry";

/** Runs failingProgram.js (a mocked Pulumi program whose component fails) and parses its report. */
function failingProgram(name: string, imagesDir: string): any {
  const r = run(process.execPath, [path.join(__dirname, "failingProgram.js"), name, imagesDir]);
  return JSON.parse(r.stdout);
}

let small: SyntheticTree;
/** Every Kubernetes object registered by any test, for the typed schema check at the end. */
const allObjects: any[] = [];

before(async () => {
  await installMocks();
  kube = await import("../../src/kubernetes");
  workload = await import("../../src/kubernetes/workload");
  args = await import("../../src/kubernetes/args");
  labelsModule = await import("../../src/kubernetes/labels");
  small = writeSyntheticTree(path.join(tmpDir("k8s-small"), "images"), { repos: 2, tagsPerRepo: 2 });
});

interface Deployed {
  reg: InstanceType<Kube["StaticContainerRegistry"]>;
  res: Registered[];
  out: Record<string, any>;
  plan: Plan;
}

/** Constructs the component, waits for every output and registration, checks every object's schema. */
async function deploy(
  name: string,
  a: import("../../src/kubernetes").StaticContainerRegistryArgs,
): Promise<Deployed> {
  const reg = new kube.StaticContainerRegistry(name, a);
  instances.set(name, labelsModule.instanceName(name, "static-container-registry-test", "test"));
  assert.match(inst(name), new RegExp(`^${name}-[0-9a-f]{8}$`));
  const out: Record<string, any> = {};
  for (const k of OUTPUTS) out[k] = await valueOf((reg as any)[k] as pulumi.Output<unknown>);
  await settle();
  const res = resourcesOf(name);
  for (const r of res) {
    if (!r.type.startsWith("kubernetes:")) continue;
    assert.deepEqual(schemaErrors(r.inputs), [], `${r.type} ${r.name} fails the Kubernetes schema`);
    allObjects.push(r.inputs);
  }
  const plan = await kube.planRegistry(name, args.validateArgs(name, a));
  return { reg, res, out, plan };
}

function kinds(res: Registered[]): string[] {
  return res.map((r) => `${r.type} ${r.name}`).sort();
}

/** Every child's URN shows the component as its parent. */
function assertParented(res: Registered[]) {
  for (const r of res) {
    if (r.type === T.component) continue;
    assert.ok(r.urn, `no URN for ${r.type} ${r.name}`);
    assert.ok(r.urn.includes(`::${T.component}$${r.type}::`), `${r.urn} is not a child of the component`);
  }
}

/** Each deployed component's instance name (resource name + URN hash), filled in by deploy(). */
const instances = new Map<string, string>();
function inst(name: string): string {
  const i = instances.get(name);
  assert.ok(i, `${name} was not deployed`);
  return i;
}

function labels(name: string, component: string, extra: Record<string, string> = {}) {
  return {
    ...extra,
    "app.kubernetes.io/name": "static-container-registry",
    "app.kubernetes.io/instance": inst(name),
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/part-of": "static-container-registry",
    "app.kubernetes.io/managed-by": "pulumi",
  };
}
const selector = (name: string) => ({
  "app.kubernetes.io/name": "static-container-registry",
  "app.kubernetes.io/instance": inst(name),
});

/** Checks everything about the Deployment that does not depend on the mode. */
function assertDeploymentCore(d: Registered, name: string, ns: string, p: Plan, cmNames: string[]) {
  assert.equal(d.inputs.apiVersion, "apps/v1");
  assert.equal(d.inputs.kind, "Deployment");
  assert.equal(d.inputs.metadata.namespace, ns);
  const spec = d.inputs.spec;
  assert.deepEqual(spec.selector, { matchLabels: selector(name) });
  assert.equal(spec.revisionHistoryLimit, 3);
  assert.equal(spec.minReadySeconds, 5);
  const tpl = spec.template;
  for (const [k, v] of Object.entries(selector(name))) assert.equal(tpl.metadata.labels[k], v);
  assert.equal(tpl.metadata.annotations["static-container-registry/content-hash"], p.contentHash);
  const pod = tpl.spec;
  assert.equal(pod.automountServiceAccountToken, false);
  assert.equal(pod.enableServiceLinks, false);
  assert.deepEqual(pod.securityContext, {
    runAsNonRoot: true,
    runAsUser: 101,
    runAsGroup: 101,
    seccompProfile: { type: "RuntimeDefault" },
  });
  assert.equal(pod.terminationGracePeriodSeconds, 30);

  // Init container: the drift guard, same image, same lockdown, read-only mounts only.
  assert.equal(pod.initContainers.length, 1);
  const guard = pod.initContainers[0];
  assert.equal(guard.name, "drift-guard");
  assert.equal(guard.image, args.DEFAULT_IMAGE);
  assert.equal(guard.imagePullPolicy, "IfNotPresent");
  assert.deepEqual(guard.command, ["sh", `${CONFIG}/${p.driftGuardMain}`, IMAGES, CONFIG]);
  assert.deepEqual(guard.securityContext, REGISTRY_CONTAINER_SECURITY);
  assert.deepEqual(guard.volumeMounts, [
    { name: "config", mountPath: CONFIG, readOnly: true },
    { name: "images", mountPath: IMAGES, readOnly: true },
  ]);
  assert.equal(guard.terminationMessagePolicy, "FallbackToLogsOnError");

  // nginx.
  assert.equal(pod.containers.length, 1);
  const c = pod.containers[0];
  assert.equal(c.name, "nginx");
  assert.equal(c.image, args.DEFAULT_IMAGE);
  assert.equal(c.imagePullPolicy, "IfNotPresent");
  assert.deepEqual(c.command, [
    "nginx",
    "-c",
    `${CONFIG}/${p.nginxMain}`,
    "-p",
    `${RUNTIME}/`,
    "-e",
    "stderr",
  ]);
  assert.equal(c.args, undefined);
  assert.deepEqual(c.securityContext, REGISTRY_CONTAINER_SECURITY);
  const probe = { path: "/v2/", port: "http", scheme: "HTTP" };
  assert.deepEqual(c.readinessProbe, {
    httpGet: probe,
    periodSeconds: 5,
    timeoutSeconds: 2,
    failureThreshold: 2,
    successThreshold: 1,
  });
  assert.deepEqual(c.livenessProbe, {
    httpGet: probe,
    initialDelaySeconds: 5,
    periodSeconds: 10,
    timeoutSeconds: 3,
    failureThreshold: 3,
    successThreshold: 1,
  });
  assert.deepEqual(c.volumeMounts, [
    { name: "config", mountPath: CONFIG, readOnly: true },
    { name: "images", mountPath: IMAGES, readOnly: true },
    { name: "scratch", mountPath: RUNTIME },
  ]);
  assert.deepEqual(c.lifecycle, { preStop: { exec: { command: ["sleep", "5"] } } });

  // Volumes: all ConfigMaps projected into one dir, images, scratch.
  assert.deepEqual(pod.volumes[0], {
    name: "config",
    projected: { defaultMode: 0o444, sources: cmNames.map((n) => ({ configMap: { name: n } })) },
  });
  assert.equal(pod.volumes[1].name, "images");
  assert.deepEqual(pod.volumes[2], { name: "scratch", emptyDir: { sizeLimit: "64Mi" } });
  assert.equal(pod.volumes.length, 3);
}

function assertConfigMaps(res: Registered[], name: string, ns: string, p: Plan): string[] {
  const cms = res
    .filter((r) => r.type === T.configMap && r.name.startsWith(`${name}-config-`))
    .sort((x, y) => Number(x.name.split("-").pop()) - Number(y.name.split("-").pop()));
  assert.equal(cms.length, p.shards.length);
  const union: Record<string, string> = {};
  cms.forEach((cm, i) => {
    assert.equal(cm.name, `${name}-config-${i}`);
    assert.equal(cm.inputs.apiVersion, "v1");
    assert.equal(cm.inputs.metadata.namespace, ns);
    assert.equal(cm.inputs.metadata.name, undefined, "auto-named, so that a change replaces it");
    assert.equal(cm.inputs.immutable, true);
    const bytes = Object.entries(cm.inputs.data as Record<string, string>).reduce(
      (n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v),
      0,
    );
    assert.ok(bytes <= 1024 * 1024, `ConfigMap ${i} holds ${bytes} bytes`);
    Object.assign(union, cm.inputs.data);
  });
  assert.deepEqual(union, p.files);
  assert.ok(p.nginxMain in union && p.driftGuardMain in union);
  return cms.map((cm) => cm.state.metadata.name);
}

function servedRepos(tree: SyntheticTree, prefix = "") {
  const m = new Map<string, { tag: string; digest: string }[]>();
  for (const t of tree.tags)
    m.set(prefix + t.repo, [...(m.get(prefix + t.repo) ?? []), { tag: t.tag, digest: t.digest }]);
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, tags]) => ({ name, tags }));
}

describe("hostPath mode", () => {
  let d: Deployed;
  before(async () => {
    d = await deploy("hp", {
      imagesDir: small.root,
      namespace: "registry",
      hostPath: { path: "/var/lib/images", nodeNames: ["node-a", "node-b"] },
    });
  });

  test("registers the component and exactly ConfigMap, Deployment, Service as its children", () => {
    assert.deepEqual(
      kinds(d.res),
      [`${T.deployment} hp`, `${T.configMap} hp-config-0`, `${T.service} hp`, `${T.component} hp`].sort(),
    );
    assertParented(d.res);
  });

  test("ConfigMap holds every rendered file", () => {
    const names = assertConfigMaps(d.res, "hp", "registry", d.plan);
    assert.deepEqual(one(d.res, T.configMap, "hp-config-0").inputs.metadata.labels, labels("hp", "config"));
    assert.deepEqual(d.out.configMapNames, names);
  });

  test("nginx.conf is rendered for the pod: its paths, its port, 2 workers", () => {
    const conf = d.plan.files[d.plan.nginxMain];
    assert.equal(d.plan.nginxMain, "nginx.conf");
    assert.match(conf, /^daemon off;$/m);
    assert.match(conf, /^worker_processes 2;$/m);
    assert.match(conf, new RegExp(`^pid ${RUNTIME}/nginx\\.pid;$`, "m"));
    assert.match(conf, /^\s+listen 5000;$/m);
    assert.ok(conf.includes(`${IMAGES}/`), "files are served from the images mount");
    assert.ok(!/\/etc\/nginx|\/var\/(log|lib|cache)\//.test(conf), "nothing outside the pod's mounts");
    // The pull log: JSON lines on stdout (kubectl logs); no metrics server unless asked.
    assert.match(conf, /^ {4}access_log \/dev\/stdout static_container_registry buffer=64k flush=1s;$/m);
    assert.equal(conf.match(/^\s+listen /gm)?.length, 1);
    assert.match(d.plan.files[d.plan.driftGuardMain], /^root=\$\{1:-'\/srv\/static-container-registry'\}$/m);
  });

  test("Deployment: read-only nginx, drift guard, hostPath pinned to the nodes holding the images", () => {
    const dep = one(d.res, T.deployment, "hp");
    assertDeploymentCore(dep, "hp", "registry", d.plan, d.out.configMapNames);
    assert.deepEqual(dep.inputs.metadata.labels, labels("hp", "registry"));
    const spec = dep.inputs.spec;
    assert.equal(spec.replicas, 1);
    assert.deepEqual(spec.strategy, {
      type: "RollingUpdate",
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    });
    const pod = spec.template.spec;
    assert.deepEqual(pod.volumes[1], {
      name: "images",
      hostPath: { path: "/var/lib/images", type: "Directory" },
    });
    assert.deepEqual(pod.affinity, {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            {
              matchExpressions: [
                { key: "kubernetes.io/hostname", operator: "In", values: ["node-a", "node-b"] },
              ],
            },
          ],
        },
      },
    });
    assert.equal(pod.hostNetwork, undefined);
    assert.equal(pod.nodeSelector, undefined);
    assert.deepEqual(pod.containers[0].ports, [{ name: "http", containerPort: 5000, protocol: "TCP" }]);
    assert.deepEqual(pod.containers[0].resources, {
      requests: { cpu: "50m", memory: "64Mi" },
      limits: { memory: "512Mi" },
    });
  });

  test("Pod Security: restricted fails only for the hostPath volume", () => {
    const pod = one(d.res, T.deployment, "hp").inputs.spec.template.spec;
    assert.deepEqual(restrictedViolations(pod), [
      "hostPath volumes: images",
      "volume types: images is hostPath",
    ]);
  });

  test("Service selects exactly these pods", () => {
    const svc = one(d.res, T.service, "hp");
    assert.equal(svc.inputs.apiVersion, "v1");
    // Auto-named: two instances never collide in one namespace.
    assert.deepEqual(svc.inputs.metadata, {
      namespace: "registry",
      labels: labels("hp", "registry"),
    });
    assert.deepEqual(svc.inputs.spec, {
      type: "ClusterIP",
      selector: selector("hp"),
      ports: [{ name: "http", port: 5000, targetPort: "http", protocol: "TCP" }],
    });
  });

  test("outputs", () => {
    assert.equal(d.out.namespace, "registry");
    assert.equal(d.out.serviceName, one(d.res, T.service, "hp").state.metadata.name);
    assert.match(d.out.serviceName, /^hp-[0-9a-f]{8}$/);
    assert.match(d.out.deploymentName, /^hp-[a-f0-9]{8}$/);
    assert.equal(d.out.endpoint, `${d.out.serviceName}.registry.svc.cluster.local:5000`);
    assert.equal(d.out.nodeEndpoint, "10.43.0.10:5000");
    assert.equal(d.out.nodePort, undefined);
    assert.deepEqual(d.out.repositories, servedRepos(small));
    assert.deepEqual(d.out.summary, {
      repositories: 2,
      tags: 4,
      manifests: 4,
      blobs: 8,
      bytes: d.plan.summary.bytes,
    });
    assert.equal(d.out.totalBytes, d.plan.summary.bytes);
    assert.equal(d.out.contentHash, d.plan.contentHash);
    assert.equal(d.out.upstreamHost, "static-container-registry.invalid");
    assert.match(d.out.hostsToml, /^\[host\."http:\/\/10\.43\.0\.10:5000"\]$/m);
    assert.deepEqual(parse(d.out.registriesYaml), {
      mirrors: { "static-container-registry.invalid": { endpoint: ["http://10.43.0.10:5000"] } },
    });
  });

  test("the plan is deterministic: same tree, same files, same hash", async () => {
    const again = await kube.planRegistry(
      "hp",
      args.validateArgs("hp", { imagesDir: small.root, hostPath: { path: "/x", anyNode: true } }),
    );
    assert.deepEqual(again.files, d.plan.files);
    assert.equal(again.contentHash, d.plan.contentHash);
  });
});

describe("existing claim, created namespace, user settings", () => {
  let d: Deployed;
  before(async () => {
    d = await deploy("claim", {
      imagesDir: small.root,
      namespace: "images",
      createNamespace: true,
      existingClaim: { claimName: "prepared-images" },
      labels: { team: "platform" },
      annotations: { "example.com/owner": "platform" },
      image: "registry.local/nginx-unprivileged:1.27@sha256:" + "a".repeat(64),
      imagePullPolicy: "Never",
      imagePullSecrets: ["pull"],
      resources: { requests: { cpu: "1", memory: "1Gi" } },
      tolerations: [
        { key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" },
      ],
      nodeSelector: { "kubernetes.io/os": "linux" },
      priorityClassName: "system-cluster-critical",
      runAsUser: 1000,
      runAsGroup: 2000,
      upstreamHost: "docker.io",
      serviceAnnotations: { "example.com/lb": "internal" },
      accessLog: "combined",
      metricsPort: 9113,
    });
  });

  test("resources: Namespace, ConfigMap, Deployment, Service", () => {
    assert.deepEqual(
      kinds(d.res),
      [
        `${T.namespace} claim-ns`,
        `${T.deployment} claim`,
        `${T.configMap} claim-config-0`,
        `${T.service} claim`,
        `${T.component} claim`,
      ].sort(),
    );
    assertParented(d.res);
  });

  test("Namespace enforces the restricted Pod Security level", () => {
    const ns = one(d.res, T.namespace, "claim-ns");
    assert.deepEqual(ns.inputs.metadata, {
      name: "images",
      labels: {
        ...labels("claim", "namespace", { team: "platform" }),
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": "latest",
      },
      annotations: { "example.com/owner": "platform" },
    });
  });

  test("Deployment mounts the claim read-only and carries the user's settings", () => {
    const dep = one(d.res, T.deployment, "claim");
    assert.deepEqual(dep.inputs.metadata, {
      namespace: "images",
      labels: labels("claim", "registry", { team: "platform" }),
      annotations: { "example.com/owner": "platform" },
    });
    const pod = dep.inputs.spec.template.spec;
    assert.deepEqual(pod.volumes[1], {
      name: "images",
      persistentVolumeClaim: { claimName: "prepared-images", readOnly: true },
    });
    assert.deepEqual(dep.inputs.spec.template.metadata.annotations, {
      "example.com/owner": "platform",
      "prometheus.io/scrape": "true",
      "prometheus.io/port": "9113",
      "prometheus.io/path": "/metrics",
      "static-container-registry/content-hash": d.plan.contentHash,
    });
    assert.deepEqual(pod.containers[0].ports, [
      { name: "http", containerPort: 5000, protocol: "TCP" },
      { name: "metrics", containerPort: 9113, protocol: "TCP" },
    ]);
    // The pull log and the metrics server, as asked.
    const conf = d.plan.files["nginx.conf"];
    assert.match(conf, /^ {4}access_log \/dev\/stdout combined buffer=64k flush=1s;$/m);
    assert.match(conf, /^ {8}listen 9113;$/m);
    assert.ok("static-container-registry-metrics.js" in d.plan.files);
    for (const c of [...pod.initContainers, ...pod.containers]) {
      assert.equal(c.image, "registry.local/nginx-unprivileged:1.27@sha256:" + "a".repeat(64));
      assert.equal(c.imagePullPolicy, "Never");
      assert.equal(c.securityContext.runAsUser, 1000);
      assert.equal(c.securityContext.runAsGroup, 2000);
    }
    assert.deepEqual(pod.securityContext, {
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 2000,
      seccompProfile: { type: "RuntimeDefault" },
    });
    assert.deepEqual(pod.containers[0].resources, { requests: { cpu: "1", memory: "1Gi" } });
    assert.deepEqual(pod.tolerations, [
      { key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" },
    ]);
    assert.deepEqual(pod.nodeSelector, { "kubernetes.io/os": "linux" });
    assert.equal(pod.affinity, undefined);
    assert.equal(pod.priorityClassName, "system-cluster-critical");
    assert.deepEqual(pod.imagePullSecrets, [{ name: "pull" }]);
  });

  test("Pod Security: restricted holds", () => {
    assert.deepEqual(restrictedViolations(one(d.res, T.deployment, "claim").inputs.spec.template.spec), []);
  });

  test("Service annotations, namespace output from the created namespace", () => {
    const svc = one(d.res, T.service, "claim");
    assert.deepEqual(svc.inputs.metadata.annotations, {
      "example.com/owner": "platform",
      "prometheus.io/scrape": "true",
      "prometheus.io/port": "9113",
      "prometheus.io/path": "/metrics",
      "example.com/lb": "internal",
    });
    assert.deepEqual(svc.inputs.spec.ports, [
      { name: "http", port: 5000, targetPort: "http", protocol: "TCP" },
      { name: "metrics", port: 9113, targetPort: "metrics", protocol: "TCP" },
    ]);
    assert.equal(d.out.namespace, "images");
    assert.equal(d.out.endpoint, `${d.out.serviceName}.images.svc.cluster.local:5000`);
    assert.match(d.out.hostsToml, /^server = "https:\/\/registry-1\.docker\.io"$/m);
    assert.deepEqual(parse(d.out.registriesYaml), {
      mirrors: { "docker.io": { endpoint: ["http://10.43.0.10:5000"] } },
    });
  });
});

describe("created PersistentVolume", () => {
  let d: Deployed;
  before(async () => {
    d = await deploy("pv", {
      imagesDir: small.root,
      namespace: "registry",
      persistentVolume: {
        spec: {
          nfs: { server: "nfs.example.invalid", path: "/exports/images", readOnly: true },
          mountOptions: ["nfsvers=4.1"],
        },
      },
    });
  });

  test("resources: PersistentVolume, claim, ConfigMap, Deployment, Service", () => {
    assert.deepEqual(
      kinds(d.res),
      [
        `${T.deployment} pv`,
        `${T.configMap} pv-config-0`,
        `${T.pv} pv-images`,
        `${T.pvc} pv-images`,
        `${T.service} pv`,
        `${T.component} pv`,
      ].sort(),
    );
    assertParented(d.res);
  });

  test("the volume is read-only, retained, reserved for the claim, of a nominal size", () => {
    const pv = one(d.res, T.pv, "pv-images");
    const claimName = `${inst("pv")}-images`;
    assert.deepEqual(pv.inputs.metadata, { labels: labels("pv", "storage") });
    assert.deepEqual(pv.inputs.spec, {
      nfs: { server: "nfs.example.invalid", path: "/exports/images", readOnly: true },
      mountOptions: ["nfsvers=4.1"],
      accessModes: ["ReadOnlyMany"],
      capacity: { storage: "1Mi" },
      persistentVolumeReclaimPolicy: "Retain",
      storageClassName: "",
      claimRef: { apiVersion: "v1", kind: "PersistentVolumeClaim", namespace: "registry", name: claimName },
    });
    const pvc = one(d.res, T.pvc, "pv-images");
    assert.deepEqual(pvc.inputs.metadata, {
      name: claimName,
      namespace: "registry",
      labels: labels("pv", "storage"),
    });
    assert.deepEqual(pvc.inputs.spec, {
      accessModes: ["ReadOnlyMany"],
      storageClassName: "",
      volumeName: pv.state.metadata.name,
      resources: { requests: { storage: "1Mi" } },
    });
  });

  test("the Deployment mounts the created claim read-only; restricted holds", () => {
    const pod = one(d.res, T.deployment, "pv").inputs.spec.template.spec;
    assert.deepEqual(pod.volumes[1], {
      name: "images",
      persistentVolumeClaim: { claimName: `${inst("pv")}-images`, readOnly: true },
    });
    assertDeploymentCore(one(d.res, T.deployment, "pv"), "pv", "registry", d.plan, d.out.configMapNames);
    assert.deepEqual(restrictedViolations(pod), []);
  });

  test("a given capacity and storage class are kept", async () => {
    const e = await deploy("pvcap", {
      imagesDir: small.root,
      persistentVolume: {
        spec: {
          capacity: { storage: "20Gi" },
          storageClassName: "images",
          accessModes: ["ReadOnlyMany"],
          csi: { driver: "nfs.csi.k8s.io", volumeHandle: "images" },
        },
      },
    });
    const pv = one(e.res, T.pv, "pvcap-images");
    assert.deepEqual(pv.inputs.spec.capacity, { storage: "20Gi" });
    assert.equal(pv.inputs.spec.storageClassName, "images");
    const pvc = one(e.res, T.pvc, "pvcap-images");
    assert.equal(pvc.inputs.spec.storageClassName, "images");
    // The claim asks for the nominal size whatever the volume's capacity: it binds all the same.
    assert.deepEqual(pvc.inputs.spec.resources, { requests: { storage: "1Mi" } });
    assert.equal(pvc.inputs.metadata.namespace, "default");
  });
});

describe("NodePort and LoadBalancer", () => {
  test("fixed nodePort: Service, outputs and node wiring use it", async () => {
    const d = await deploy("np", {
      imagesDir: small.root,
      existingClaim: { claimName: "images" },
      serviceType: "NodePort",
      nodePort: 30500,
      upstreamHost: "registry.invalid",
    });
    const svc = one(d.res, T.service, "np");
    assert.deepEqual(svc.inputs.spec, {
      type: "NodePort",
      selector: selector("np"),
      ports: [{ name: "http", port: 5000, targetPort: "http", protocol: "TCP", nodePort: 30500 }],
    });
    assert.equal(d.out.nodePort, 30500);
    assert.equal(d.out.nodeEndpoint, "127.0.0.1:30500");
    // The node port on the node's loopback, then the Service's cluster IP (Ready pods only).
    assert.deepEqual(
      [...d.out.hostsToml.matchAll(/^\[host\."([^"]+)"\]$/gm)].map((m: RegExpMatchArray) => m[1]),
      ["http://127.0.0.1:30500", "http://10.43.0.10:5000"],
    );
    assert.deepEqual(parse(d.out.registriesYaml), {
      mirrors: { "registry.invalid": { endpoint: ["http://127.0.0.1:30500", "http://10.43.0.10:5000"] } },
    });
  });

  test("allocated nodePort: read back from the Service", async () => {
    const d = await deploy("npalloc", {
      imagesDir: small.root,
      existingClaim: { claimName: "images" },
      serviceType: "NodePort",
    });
    const allocated = one(d.res, T.service, "npalloc").state.spec.ports[0].nodePort;
    assert.equal(one(d.res, T.service, "npalloc").inputs.spec.ports[0].nodePort, undefined);
    assert.equal(d.out.nodePort, allocated);
    assert.equal(d.out.nodeEndpoint, `127.0.0.1:${allocated}`);
  });

  test("LoadBalancer: the node endpoint is the load balancer's address", async () => {
    const d = await deploy("lb", {
      imagesDir: small.root,
      existingClaim: { claimName: "images" },
      serviceType: "LoadBalancer",
      port: 8080,
    });
    assert.equal(one(d.res, T.service, "lb").inputs.spec.type, "LoadBalancer");
    assert.equal(d.out.nodeEndpoint, "192.0.2.10:8080");
    assert.equal(typeof d.out.nodePort, "number");
  });

  test("an explicit nodeEndpoint wins", async () => {
    const d = await deploy("ne", {
      imagesDir: small.root,
      existingClaim: { claimName: "images" },
      nodeEndpoint: "registry.internal:5000",
    });
    assert.equal(d.out.nodeEndpoint, "registry.internal:5000");
  });
});

describe("hostNetwork", () => {
  let d: Deployed;
  before(async () => {
    d = await deploy("hostnet", {
      imagesDir: small.root,
      hostPath: { path: "/var/lib/images", nodeSelector: { "node-role.kubernetes.io/control-plane": "" } },
      hostNetwork: true,
      port: 5001,
      namePrefix: "mirror/",
    });
  });

  test("pod on the host network, port on the node, rollout replaces in place", () => {
    const dep = one(d.res, T.deployment, "hostnet");
    const pod = dep.inputs.spec.template.spec;
    assert.equal(pod.hostNetwork, true);
    assert.equal(pod.dnsPolicy, "ClusterFirstWithHostNet");
    assert.deepEqual(pod.containers[0].ports, [
      { name: "http", containerPort: 5001, protocol: "TCP", hostPort: 5001 },
    ]);
    assert.deepEqual(pod.nodeSelector, { "node-role.kubernetes.io/control-plane": "" });
    assert.deepEqual(dep.inputs.spec.strategy, {
      type: "RollingUpdate",
      rollingUpdate: { maxSurge: 0, maxUnavailable: 1 },
    });
    assertDeploymentCore(dep, "hostnet", "default", d.plan, d.out.configMapNames);
  });

  test("Pod Security: restricted fails for host network, host port and hostPath only", () => {
    assert.deepEqual(restrictedViolations(one(d.res, T.deployment, "hostnet").inputs.spec.template.spec), [
      "host namespaces: hostNetwork=true",
      "hostPath volumes: images",
      "hostPorts: nginx 5001",
      "volume types: images is hostPath",
    ]);
  });

  test("node wiring points at the node's loopback, then the Service, with the name prefix", () => {
    assert.equal(d.out.nodeEndpoint, "127.0.0.1:5001");
    assert.match(
      d.out.hostsToml,
      /^\[host\."http:\/\/127\.0\.0\.1:5001\/v2\/mirror"\]\n {2}capabilities = \["pull", "resolve"\]\n {2}override_path = true$/m,
    );
    assert.match(d.out.hostsToml, /^\[host\."http:\/\/10\.43\.0\.10:5001\/v2\/mirror"\]$/m);
    assert.deepEqual(parse(d.out.registriesYaml), {
      mirrors: {
        "static-container-registry.invalid": {
          endpoint: ["http://127.0.0.1:5001", "http://10.43.0.10:5001"],
          rewrite: { "^(.*)$": "mirror/$1" },
        },
      },
    });
    assert.deepEqual(
      d.out.repositories.map((r: { name: string }) => r.name),
      servedRepos(small, "mirror/").map((r) => r.name),
    );
  });
});

describe("replicas > 1", () => {
  let d: Deployed;
  before(async () => {
    d = await deploy("ha", { imagesDir: small.root, existingClaim: { claimName: "images" }, replicas: 3 });
  });

  test("a PodDisruptionBudget keeps all but one pod up", () => {
    assert.deepEqual(
      kinds(d.res),
      [
        `${T.deployment} ha`,
        `${T.configMap} ha-config-0`,
        `${T.pdb} ha`,
        `${T.service} ha`,
        `${T.component} ha`,
      ].sort(),
    );
    assertParented(d.res);
    const pdb = one(d.res, T.pdb, "ha");
    assert.equal(pdb.inputs.apiVersion, "policy/v1");
    assert.deepEqual(pdb.inputs.metadata, { namespace: "default", labels: labels("ha", "registry") });
    assert.deepEqual(pdb.inputs.spec, { maxUnavailable: 1, selector: { matchLabels: selector("ha") } });
  });

  test("three replicas, spread over nodes, rolling without losing one", () => {
    const spec = one(d.res, T.deployment, "ha").inputs.spec;
    assert.equal(spec.replicas, 3);
    assert.deepEqual(spec.strategy.rollingUpdate, { maxSurge: 1, maxUnavailable: 0 });
    assert.deepEqual(spec.template.spec.affinity, {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 100,
            podAffinityTerm: {
              topologyKey: "kubernetes.io/hostname",
              labelSelector: { matchLabels: selector("ha") },
            },
          },
        ],
      },
    });
  });

  test("no PDB for a single replica", async () => {
    const one1 = await deploy("single", {
      imagesDir: small.root,
      existingClaim: { claimName: "images" },
      replicas: 1,
    });
    assert.equal(one1.res.filter((r) => r.type === T.pdb).length, 0);
  });
});

describe("KEP-1755 local-registry-hosting", () => {
  test("the well-known ConfigMap in kube-public", async () => {
    const d = await deploy("kep", {
      imagesDir: small.root,
      existingClaim: { claimName: "images" },
      serviceType: "NodePort",
      nodePort: 30555,
      localRegistryHosting: true,
    });
    const cm = one(d.res, T.configMap, "kep-local-registry-hosting");
    assert.deepEqual(cm.inputs.metadata, {
      name: "local-registry-hosting",
      namespace: "kube-public",
      labels: labels("kep", "discovery"),
    });
    const doc = parse(cm.inputs.data["localRegistryHosting.v1"]);
    assert.equal(doc.host, "127.0.0.1:30555");
    assert.equal(doc.hostFromContainerRuntime, "127.0.0.1:30555");
    assert.equal(doc.hostFromClusterNetwork, `${d.out.serviceName}.default.svc.cluster.local:5000`);
    assertParented(d.res);
  });
});

describe("a config bigger than a ConfigMap", () => {
  let d: Deployed;
  let big: SyntheticTree;
  before(async () => {
    big = writeSyntheticTree(path.join(tmpDir("k8s-big"), "images"), { repos: 60, tagsPerRepo: 50 });
    d = await deploy("big", { imagesDir: big.root, hostPath: { path: "/var/lib/images", anyNode: true } });
  });

  test("is split across ConfigMaps, each under the limit, all projected into one dir", () => {
    const total = Object.entries(d.plan.files).reduce(
      (n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v),
      0,
    );
    assert.ok(total > 1024 * 1024, `rendered ${total} bytes: the test tree must exceed 1 MiB`);
    assert.ok(d.plan.shards.length >= 2);
    const names = assertConfigMaps(d.res, "big", "default", d.plan);
    assert.equal(names.length, d.plan.shards.length);
    for (const s of d.plan.shards) assert.ok(s.bytes <= args.DEFAULT_MAX_CONFIGMAP_BYTES);
    const pod = one(d.res, T.deployment, "big").inputs.spec.template.spec;
    assert.deepEqual(
      pod.volumes[0].projected.sources,
      names.map((n) => ({ configMap: { name: n } })),
    );
    assert.equal(d.out.summary.tags, 3000);
    process.stdout.write(
      `# sharding: ${d.out.summary.tags} tags, ${d.out.summary.manifests} manifests, ${d.out.summary.blobs} blobs, ` +
        `${Object.keys(d.plan.files).length} files, ${total} bytes rendered, ${names.length} ConfigMaps ` +
        `(${d.plan.shards.map((s) => s.bytes).join(", ")} bytes)\n`,
    );
  });

  test("a smaller maxConfigMapBytes gives more, smaller ConfigMaps", async () => {
    const e = await deploy("bigsmall", {
      imagesDir: big.root,
      hostPath: { path: "/var/lib/images", anyNode: true },
      maxConfigMapBytes: 256 * 1024,
    });
    assert.ok(e.plan.shards.length > d.plan.shards.length);
    for (const s of e.plan.shards) assert.ok(s.bytes <= 256 * 1024);
    assertConfigMaps(e.res, "bigsmall", "default", e.plan);
  });
});

describe("changes roll the pods", () => {
  test("a changed image tree changes the content hash in the pod template", async () => {
    const root = path.join(tmpDir("k8s-change"), "images");
    writeSyntheticTree(root, { repos: 1, tagsPerRepo: 1 });
    const a = await deploy("roll-a", { imagesDir: root, existingClaim: { claimName: "images" } });
    writeSyntheticTree(root, { repos: 1, tagsPerRepo: 2 });
    const b = await deploy("roll-b", { imagesDir: root, existingClaim: { claimName: "images" } });
    const hashOf = (x: Deployed, n: string) =>
      one(x.res, T.deployment, n).inputs.spec.template.metadata.annotations[
        "static-container-registry/content-hash"
      ];
    // The second deployment saw the added tag, and its pods roll.
    assert.deepEqual([a.out.summary.tags, b.out.summary.tags], [1, 2]);
    assert.notEqual(hashOf(a, "roll-a"), hashOf(b, "roll-b"));
  });
});

describe("failures", () => {
  test("bad args throw at construction, with every problem, and register nothing", () => {
    assert.throws(
      () =>
        new kube.StaticContainerRegistry("badargs", {
          imagesDir: small.root,
          hostPath: { path: "relative" },
          existingClaim: { claimName: "x" },
          port: 80,
        }),
      (e: unknown) => {
        assert.ok(e instanceof kube.InvalidArgsError);
        assert.equal(
          e.message,
          [
            'StaticContainerRegistry "badargs": invalid arguments:',
            "  - set exactly one storage option, not hostPath and existingClaim",
            '  - hostPath.path "relative" must be an absolute path on the node',
            "  - hostPath needs nodeNames or nodeSelector (or a top-level nodeSelector/affinity) so the pods land on the nodes that hold the images; set hostPath.anyNode = true if every node does",
            "  - port must be a whole number in 1024-65535 (nginx runs without capabilities, so it cannot bind lower ports), not 80",
          ].join("\n"),
        );
        return true;
      },
    );
    assert.deepEqual(resourcesOf("badargs"), []);
  });

  test("a bad images tree fails the program once, with the full problem list, and creates no children", () => {
    const root = path.join(tmpDir("k8s-bad"), "images");
    const tree = writeSyntheticTree(root, { repos: 1, tagsPerRepo: 2 });
    // A missing layer, and a manifest that is not JSON.
    const t0 = path.join(root, tree.tags[0].repo, tree.tags[0].tag);
    const m0 = JSON.parse(fs.readFileSync(path.join(t0, "manifest.json"), "utf8"));
    fs.rmSync(path.join(t0, m0.layers[0].digest.slice("sha256:".length)));
    fs.writeFileSync(path.join(root, tree.tags[1].repo, tree.tags[1].tag, "manifest.json"), "{not json");

    const r = failingProgram("badtree", root);
    assert.match(
      r.outputError,
      new RegExp(
        `^StaticContainerRegistry "badtree": the images in ${root} cannot be served \\(2 problems\\):\n  - `,
      ),
    );
    assert.match(
      r.outputError,
      new RegExp(
        `\n  - ${tree.tags[0].repo}/${tree.tags[0].tag}/[^:]*: .*${m0.layers[0].digest.slice(7, 19)}`,
      ),
    );
    assert.match(r.outputError, new RegExp(`\n  - ${tree.tags[1].repo}/${tree.tags[1].tag}/manifest.json: `));
    assert.equal(r.outputErrorProblems.length, 2);
    // Pulumi fails the run on the unhandled rejection, and prints it once.
    assert.deepEqual(r.unhandled, [`ImagesTreeError: ${r.outputError}`]);
    assert.equal(r.sameErrorObject, true);
    assert.deepEqual(r.resources, [T.component]);
  });

  test("an empty images dir is refused", () => {
    const r = failingProgram("empty", tmpDir("k8s-empty"));
    assert.match(r.outputError, /cannot be served \(1 problem\):\n {2}- \.: no images found/);
    assert.deepEqual(r.resources, [T.component]);
  });
});

test("workload builders use the pod paths", () => {
  assert.deepEqual(workload.POD_PATHS, { config: CONFIG, images: IMAGES, runtime: RUNTIME });
});

// Runs last: every object registered by the tests above, type-checked against
// the API's field names and types (the schema check alone allows unknown fields).
test("no object has a field the Kubernetes API does not have", () => {
  assert.ok(allObjects.length >= 30, `only ${allObjects.length} objects were checked`);
  assert.deepEqual(unknownFieldErrors(allObjects), []);
});
