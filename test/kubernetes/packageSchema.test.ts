/**
 * The schema other languages get: produced offline by @pulumi/pulumi's own
 * component provider (what the host answers to GetSchema), from this
 * repository's TypeScript types. Every input and output is present and
 * described (no TSDoc link turned into "[object Object]"), closed sets are
 * enums, and exactly the arguments that decide what is rendered or which
 * objects exist are plain (the rest accept Outputs from another language).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, test } from "node:test";
import { parse } from "yaml";

/* eslint-disable @typescript-eslint/no-explicit-any */

const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
const TYPE = "static-container-registry:index:StaticContainerRegistry";
let schema: any;
let resource: any;

before(async () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ComponentProvider } = require("@pulumi/pulumi/provider/experimental/provider");
  const { StaticContainerRegistry } = await import("../../src/kubernetes");
  const provider = new ComponentProvider({
    name: "static-container-registry",
    dirname: REPO_ROOT,
    components: [StaticContainerRegistry],
  });
  schema = JSON.parse(await provider.getSchema());
  resource = schema.resources[TYPE];
});

/** Arguments that must be known at construction, and why (see the `*_ARGS` tables of src/kubernetes/args/). */
const PLAIN = [
  "imagesDir", // scanned at construction
  "images", // decides which mirror commands exist
  "imagesFile", // read at construction
  "registriesConf", // read at construction
  "verify", // a scan option
  "namePrefix", // rendered into the nginx config
  "createNamespace", // decides whether a Namespace exists
  "hostPath", // which storage option is set decides the objects (its fields accept Outputs)
  "existingClaim",
  "persistentVolume",
  "imagePullSecrets", // the list decides whether the pods get pull secrets (names accept Outputs)
  "runAsUser", // checked to be non-root before anything is deployed
  "runAsGroup",
  "workload", // decides which objects run the pods
  "replicas", // decides whether a PodDisruptionBudget exists
  "nodeSelector", // merged with the hostPath pinning (values accept Outputs)
  "labels", // merged into every object's labels, checked at construction
  "annotations",
  "serviceType", // decides where nodeEndpoint comes from
  "port", // rendered into the nginx config
  "hostNetwork", // decides the pods' network and rollout
  "upstreamHost", // names the wiring's files and mirror entries
  "localRegistryHosting", // decides whether the KEP-1755 ConfigMap exists
  "wiringDaemonSet", // decides whether the wiring DaemonSet exists
  "tls", // decides how the pods are configured
  "networkPolicy", // decides whether a NetworkPolicy exists
  "maxConfigMapBytes", // decides the split into ConfigMaps
  "workerProcesses", // rendered into the nginx config
  "ui", // rendered into the nginx config
  "staticPodManifestsDir", // written into the node commands
  "nodes", // decides which nodes get commands
  "registryImage",
  "skipAwait", // set on every object at construction
  "customTimeouts", // a resource option
  "accessLog", // rendered into the nginx config
  "metricsPort", // rendered into the nginx config
];

test("PulumiPlugin.yaml: a nodejs component package", () => {
  assert.deepEqual(parse(fs.readFileSync(path.join(REPO_ROOT, "PulumiPlugin.yaml"), "utf8")), {
    runtime: "nodejs",
  });
});

test("the component is described, and so is every input and output", () => {
  assert.ok(resource, `no ${TYPE} in the schema`);
  assert.equal(resource.isComponent, true);
  const texts: [string, string | undefined][] = [["the resource", resource.description]];
  for (const [k, v] of Object.entries<any>(resource.inputProperties))
    texts.push([`input ${k}`, v.description]);
  for (const [k, v] of Object.entries<any>(resource.properties)) texts.push([`output ${k}`, v.description]);
  for (const [name, t] of Object.entries<any>(schema.types ?? {})) {
    if (!name.startsWith("static-container-registry:")) continue;
    for (const [k, v] of Object.entries<any>(t.properties ?? {})) texts.push([`${name}.${k}`, v.description]);
  }
  const missing = texts.filter(([, d]) => !d || d.trim() === "").map(([w]) => w);
  const mangled = texts.filter(([, d]) => d?.includes("[object Object]")).map(([w]) => w);
  // Copied Kubernetes types are described by their own package; ours must all be.
  const ours = missing.filter(
    (w) =>
      !/:index:(Affinity|Toleration|ResourceRequirements|VolumeNodeAffinity|NodeAffinity|PodAffinity|PodAntiAffinity|NodeSelector|NodeSelectorTerm|NodeSelectorRequirement|PreferredSchedulingTerm|WeightedPodAffinityTerm|PodAffinityTerm|LabelSelector|LabelSelectorRequirement|ResourceClaim)\./.test(
        w,
      ),
  );
  assert.deepEqual(mangled, []);
  assert.deepEqual(ours, []);
  for (const k of [
    "imagesDir",
    "hostPath",
    "existingClaim",
    "persistentVolume",
    "serviceType",
    "nodeEndpoint",
    "skipAwait",
    "customTimeouts",
  ])
    assert.ok(k in resource.inputProperties, `input ${k}`);
  for (const k of ["endpoint", "nodeEndpoint", "hostsToml", "registriesYaml", "repositories", "serviceName"])
    assert.ok(k in resource.properties, `output ${k}`);
});

test("closed sets are enums", () => {
  const enumOf = (name: string) =>
    (schema.types[`static-container-registry:index:${name}`]?.enum ?? []).map((e: any) => e.value);
  assert.deepEqual(enumOf("ServiceType").sort(), ["ClusterIP", "LoadBalancer", "NodePort"]);
  assert.deepEqual(enumOf("ImagePullPolicy").sort(), ["Always", "IfNotPresent", "Never"]);
  assert.equal(
    resource.inputProperties.serviceType.$ref,
    "#/types/static-container-registry:index:ServiceType",
  );
  assert.equal(
    resource.inputProperties.imagePullPolicy.$ref,
    "#/types/static-container-registry:index:ImagePullPolicy",
  );
});

test("plain exactly where a value decides what is rendered or which objects exist", () => {
  const plain = Object.entries<any>(resource.inputProperties)
    .filter(([, v]) => v.plain)
    .map(([k]) => k)
    .sort();
  assert.deepEqual(plain, [...PLAIN].sort());
  // Fields of the storage options accept Outputs (a claim or a path from another resource).
  const claim = schema.types["static-container-registry:index:ExistingClaimStorageArgs"];
  assert.ok(!claim.properties.claimName.plain);
  const hp = schema.types["static-container-registry:index:HostPathStorageArgs"];
  assert.ok(!hp.properties.path.plain && !hp.properties.nodeNames.plain);
  // A Secret (or cert-manager Certificate) made in the same program names the TLS Secret; its CA may be a secret Output.
  const tls = schema.types["static-container-registry:index:TlsArgs"];
  assert.ok(!tls.properties.secretName.plain, "tls.secretName accepts an Output");
  assert.ok(!tls.properties.caCertificate.plain, "tls.caCertificate accepts an Output");
  // Where the other nodes reach a node may come from another resource (an instance's private IP).
  const node = schema.types["static-container-registry:index:NodeTargetArgs"];
  assert.ok(!node.properties.address.plain);
});

test("the created volume's spec is our own small shape: no field the component would refuse", () => {
  const spec = schema.types["static-container-registry:index:PersistentVolumeSpecArgs"];
  assert.ok(spec, "PersistentVolumeSpecArgs");
  for (const k of ["claimRef", "persistentVolumeReclaimPolicy"]) assert.ok(!(k in spec.properties), k);
  assert.ok("nfs" in spec.properties && "csi" in spec.properties);
});
