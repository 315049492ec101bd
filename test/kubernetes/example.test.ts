/**
 * The example program (Pulumi.yaml + index.ts at the top level), loaded by
 * Pulumi's own TypeScript loader under mocks, with stack config.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, test } from "node:test";
import { parse } from "yaml";
import { run, tmpDir } from "../support/tools";
import { writeSyntheticTree, type SyntheticTree } from "./synthetic";

/* eslint-disable @typescript-eslint/no-explicit-any */

const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
let tree: SyntheticTree;

before(() => {
  tree = writeSyntheticTree(path.join(tmpDir("k8s-example"), "images"), { repos: 1, tagsPerRepo: 2 });
});

function program(...config: string[]): { exports: Record<string, any>; resources: any[] } {
  const r = run(process.execPath, [path.join(__dirname, "exampleProgram.js"), ...config]);
  return JSON.parse(r.stdout);
}

test("Pulumi.yaml names the project, the nodejs runtime and index.ts as the program", () => {
  const y = parse(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8"));
  assert.equal(y.name, "static-container-registry-example");
  assert.deepEqual(y.runtime, { name: "nodejs", options: { typescript: true } });
  assert.equal(y.main, "index.ts");
  assert.ok(fs.existsSync(path.join(REPO_ROOT, y.main)));
  assert.equal(y.config.imagesDir.type, "string");
});

test("hostPath stack: resource tree and exports", () => {
  const p = program(
    `imagesDir=${tree.root}`,
    "hostPath=/var/lib/images",
    'nodeNames=["node-1"]',
    "nodePort=30500",
  );
  const tree_ = p.resources.map((r) => `${r.type} ${r.name}`).sort();
  assert.deepEqual(tree_, [
    "kubernetes:apps/v1:Deployment registry",
    "kubernetes:core/v1:ConfigMap registry-config-0",
    "kubernetes:core/v1:Namespace registry-ns",
    "kubernetes:core/v1:Service registry",
    "static-container-registry:index:StaticContainerRegistry registry",
  ]);
  for (const r of p.resources) {
    if (r.type.startsWith("kubernetes:")) assert.match(r.urn, /StaticContainerRegistry\$kubernetes:/);
  }
  const e = p.exports;
  assert.match(e.serviceName, /^registry-[0-9a-f]{8}$/);
  assert.equal(e.endpoint, `${e.serviceName}.static-container-registry.svc.cluster.local:5000`);
  assert.equal(e.nodeEndpoint, "127.0.0.1:30500");
  assert.equal(e.nodePort, 30500);
  assert.equal(e.namespace, "static-container-registry");
  assert.equal(e.upstreamHost, "static-container-registry.invalid");
  assert.match(e.containerdHostsToml, /^\[host\."http:\/\/127\.0\.0\.1:30500"\]$/m);
  assert.deepEqual(parse(e.registriesYaml), {
    mirrors: {
      "static-container-registry.invalid": { endpoint: ["http://127.0.0.1:30500", "http://10.43.0.10:5000"] },
    },
  });
  assert.deepEqual(e.repositories, [
    { name: tree.tags[0].repo, tags: tree.tags.map((t) => ({ tag: t.tag, digest: t.digest })) },
  ]);
  assert.equal(typeof e.totalBytes, "number");
  const dep = p.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment");
  assert.deepEqual(dep.inputs.spec.template.spec.volumes[1], {
    name: "images",
    hostPath: { path: "/var/lib/images", type: "Directory" },
  });
});

test("NFS stack: a PersistentVolume and its claim", () => {
  const p = program(
    `imagesDir=${tree.root}`,
    "nfsServer=nfs.example.invalid",
    "nfsPath=/exports/images",
    "serviceType=ClusterIP",
    "createNamespace=false",
    "namespace=default",
  );
  const kinds = p.resources.map((r) => `${r.type} ${r.name}`).sort();
  assert.ok(kinds.includes("kubernetes:core/v1:PersistentVolume registry-images"));
  assert.ok(kinds.includes("kubernetes:core/v1:PersistentVolumeClaim registry-images"));
  assert.ok(!kinds.some((k) => k.includes("Namespace")));
  assert.equal(p.exports.nodePort, undefined);
});
