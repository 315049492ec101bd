/**
 * Argument validation: every mistake is reported at construction, all at once,
 * with a message that says what to do.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import {
  DEFAULT_IMAGE,
  DEFAULT_MAX_CONFIGMAP_BYTES,
  InvalidArgsError,
  podSecurityLevel,
  validateArgs,
  type StaticContainerRegistryArgs,
} from "../../src/kubernetes/args";
import { tmpDir } from "../support/tools";

const dir = tmpDir("k8s-args");
const file = path.join(dir, "a-file");
fs.writeFileSync(file, "x");

const base: StaticContainerRegistryArgs = {
  imagesDir: dir,
  hostPath: { path: "/srv/images", anyNode: true },
};

function problemsOf(args: StaticContainerRegistryArgs, name = "reg"): string[] {
  try {
    validateArgs(name, args);
  } catch (e) {
    assert.ok(e instanceof InvalidArgsError, `expected InvalidArgsError, got ${e}`);
    assert.match(e.message, new RegExp(`^StaticContainerRegistry "${name}": invalid arguments:\n  - `));
    return e.problems;
  }
  return [];
}

test("defaults: pinned non-root image, IfNotPresent, port 5000, ClusterIP, 1 replica, UID/GID 101", () => {
  const a = validateArgs("reg", base);
  assert.equal(a.image, DEFAULT_IMAGE);
  assert.match(DEFAULT_IMAGE, /^nginxinc\/nginx-unprivileged:[^@]+@sha256:[a-f0-9]{64}$/);
  assert.equal(a.imagePullPolicy, "IfNotPresent");
  assert.equal(a.port, 5000);
  assert.equal(a.serviceType, "ClusterIP");
  assert.equal(a.replicas, 1);
  assert.equal(a.runAsUser, 101);
  assert.equal(a.runAsGroup, 101);
  assert.equal(a.namespace, "default");
  assert.equal(a.createNamespace, false);
  assert.equal(a.storage, "hostPath");
  assert.equal(a.hostNetwork, false);
  assert.equal(a.upstreamHost, "static-container-registry.invalid");
  assert.equal(a.maxConfigMapBytes, DEFAULT_MAX_CONFIGMAP_BYTES);
  assert.ok(DEFAULT_MAX_CONFIGMAP_BYTES < 1024 * 1024);
  assert.equal(a.namePrefix, "");
});

test("a valid full set of args passes and is kept", () => {
  const a = validateArgs("reg", {
    imagesDir: dir,
    existingClaim: { claimName: "images" },
    namespace: "registry",
    createNamespace: true,
    replicas: 3,
    port: 8080,
    serviceType: "NodePort",
    nodePort: 30500,
    upstreamHost: "docker.io",
    labels: { team: "platform" },
    annotations: { "example.com/owner": "platform" },
    runAsUser: 1000,
    runAsGroup: 1000,
    imagePullPolicy: "Always",
  });
  assert.equal(a.storage, "existingClaim");
  assert.equal(a.replicas, 3);
  assert.equal(a.nodePort, 30500);
  assert.equal(a.runAsUser, 1000);
});

test("storage: exactly one option", () => {
  assert.deepEqual(problemsOf({ imagesDir: dir }), [
    "a storage option is required: set exactly one of hostPath, existingClaim or persistentVolume",
  ]);
  assert.deepEqual(
    problemsOf({
      imagesDir: dir,
      hostPath: { path: "/x", anyNode: true },
      existingClaim: { claimName: "c" },
    }),
    ["set exactly one storage option, not hostPath and existingClaim"],
  );
});

test("hostPath: absolute path, and pods pinned to the nodes that hold the images", () => {
  assert.deepEqual(problemsOf({ imagesDir: dir, hostPath: { path: "images", anyNode: true } }), [
    'hostPath.path "images" must be an absolute path on the node',
  ]);
  const unpinned = problemsOf({ imagesDir: dir, hostPath: { path: "/srv/images" } });
  assert.equal(unpinned.length, 1);
  assert.match(unpinned[0], /hostPath needs nodeNames or nodeSelector/);
  assert.match(unpinned[0], /anyNode = true/);
  // Any of these pins the pods.
  for (const extra of [
    { hostPath: { path: "/srv/images", nodeNames: ["node-1"] } },
    { hostPath: { path: "/srv/images", nodeSelector: { "example.com/images": "yes" } } },
    { hostPath: { path: "/srv/images" }, nodeSelector: { "example.com/images": "yes" } },
  ]) {
    assert.deepEqual(problemsOf({ imagesDir: dir, ...extra }), []);
  }
  assert.deepEqual(problemsOf({ imagesDir: dir, hostPath: { path: "/x", nodeNames: ["Bad Name"] } }), [
    'hostPath.nodeNames: "Bad Name" is not a valid node name',
  ]);
});

test("created volume: read-only access modes only, claimRef belongs to the component", () => {
  const p = problemsOf({
    imagesDir: dir,
    persistentVolume: {
      spec: {
        accessModes: ["ReadWriteOnce", "ReadOnlyMany"],
        // Not in the type: a JavaScript or YAML caller may still send it.
        ...({ claimRef: { name: "x" } } as object),
        nfs: { server: "nfs.example", path: "/images" },
      },
    },
  });
  assert.deepEqual(p, [
    "persistentVolume.spec.accessModes may only be ReadOnlyMany (the registry never writes), not ReadWriteOnce",
    "persistentVolume.spec.claimRef is set by the component; leave it out",
  ]);
});

test("imagesDir must exist and be a directory", () => {
  assert.deepEqual(problemsOf({ ...base, imagesDir: path.join(dir, "nope") }), [
    `imagesDir "${path.join(dir, "nope")}" does not exist`,
  ]);
  assert.deepEqual(problemsOf({ ...base, imagesDir: file }), [`imagesDir "${file}" is not a directory`]);
  assert.match(problemsOf({ ...base, imagesDir: "" })[0], /imagesDir is required/);
});

test("every problem is reported at once", () => {
  const p = problemsOf(
    {
      imagesDir: dir,
      hostPath: { path: "/srv/images", anyNode: true },
      replicas: 0,
      port: 80,
      serviceType: "NodePrt" as never,
      nodePort: 30000,
      runAsUser: 0,
      runAsGroup: -1,
      imagePullPolicy: "Sometimes" as never,
      upstreamHost: "https://docker.io",
      namespace: "Bad_NS",
      maxConfigMapBytes: 2 * 1024 * 1024,
      labels: { "app.kubernetes.io/name": "bad value!" },
      workerProcesses: 0,
      namePrefix: "Mirror",
      accessLog: "common",
      metricsPort: 70000,
    },
    "Bad_Name",
  );
  assert.deepEqual(p, [
    `the resource name "Bad_Name" is used in Kubernetes object names: use at most 40 lowercase letters, digits and '-', starting and ending with a letter or digit`,
    "replicas must be a whole number >= 1, not 0",
    "runAsUser must be a non-root UID (>= 1), not 0",
    "runAsGroup must be a non-root GID (>= 1), not -1",
    'imagePullPolicy must be one of IfNotPresent, Always, Never, not "Sometimes"',
    'labels: value of "app.kubernetes.io/name" is not a valid label value',
    "port must be a whole number in 1024-65535 (nginx runs without capabilities, so it cannot bind lower ports), not 80",
    'serviceType must be one of ClusterIP, NodePort, LoadBalancer, not "NodePrt"',
    "nodePort needs serviceType NodePort or LoadBalancer (serviceType is NodePrt)",
    'upstreamHost must be a host name with an optional port (e.g. docker.io), not "https://docker.io"',
    'namespace "Bad_NS" is not a valid namespace name',
    "maxConfigMapBytes must be between 65536 and 1048576 (Kubernetes' limit), not 2097152",
    "workerProcesses must be a whole number >= 1, not 0",
    'namePrefix "Mirror" must be empty or a repository name followed by "/" (e.g. "mirror/")',
    'accessLog must be "json", "combined", "off", not "common"',
    "metricsPort must be a port (1-65535), not 70000",
  ]);
  assert.deepEqual(problemsOf({ ...base, metricsPort: 5000 }), [
    "metricsPort 5000 must differ from port 5000",
  ]);
});

test("missing args object", () => {
  assert.throws(
    () => validateArgs("reg", undefined),
    /StaticContainerRegistry "reg": invalid arguments:\n {2}- args are required/,
  );
});

test("Pod Security level: restricted unless hostPath or hostNetwork", () => {
  assert.equal(podSecurityLevel({ storage: "existingClaim", hostNetwork: false }), "restricted");
  assert.equal(podSecurityLevel({ storage: "persistentVolume", hostNetwork: false }), "restricted");
  assert.equal(podSecurityLevel({ storage: "hostPath", hostNetwork: false }), "privileged");
  assert.equal(podSecurityLevel({ storage: "existingClaim", hostNetwork: true }), "privileged");
});
