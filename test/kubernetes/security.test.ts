/**
 * The component's security options under Pulumi's mocks: `tls` (an existing
 * kubernetes.io/tls Secret mounted read-only; HTTPS-only nginx config, HTTPS
 * probes, node wiring with https:// and the CA) and `networkPolicy` (ingress
 * from the named namespaces, CIDRs and nodes, to the registry port only; no
 * egress). Every object is checked against the Kubernetes schema; argument
 * mistakes are reported all at once.
 */
import { instanceName } from "../../src/kubernetes/labels";
import assert from "node:assert/strict";
import * as path from "node:path";
import { before, describe, test } from "node:test";
import type * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { installMocks, one, resourcesOf, settle, valueOf, type Registered } from "./mocks";
import { isSecretValue, unsecretDeep } from "../e2e/nodeSteps";
import { baselineViolations } from "./podSecurity";
import { schemaErrors, unknownFieldErrors } from "./schema";
import { writeSyntheticTree, type SyntheticTree } from "./synthetic";
import { tmpDir } from "../support/tools";

/* eslint-disable @typescript-eslint/no-explicit-any */

type Kube = typeof import("../../src/kubernetes");
let kube: Kube;
let tree: SyntheticTree;

const T = {
  deployment: "kubernetes:apps/v1:Deployment",
  daemonSet: "kubernetes:apps/v1:DaemonSet",
  networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
};

before(async () => {
  await installMocks();
  kube = await import("../../src/kubernetes");
  tree = writeSyntheticTree(path.join(tmpDir("k8s-security"), "images"), { repos: 1, tagsPerRepo: 1 });
});

async function deploy(
  name: string,
  a: Omit<import("../../src/kubernetes").StaticContainerRegistryArgs, "imagesDir">,
) {
  const args = { imagesDir: tree.root, existingClaim: { claimName: "images" }, ...a };
  const reg = new kube.StaticContainerRegistry(name, args);
  const out: Record<string, any> = {};
  for (const k of ["hostsToml", "registriesYaml", "nodeEndpoint"] as const)
    out[k] = await valueOf((reg as any)[k] as pulumi.Output<unknown>);
  await settle();
  const res = resourcesOf(name);
  // A secret input (the CA) makes what holds it secret; the object's shape is what is checked here.
  const objects = res.filter((r) => r.type.startsWith("kubernetes:")).map((r) => unsecretDeep(r.inputs));
  for (const o of objects) assert.deepEqual(schemaErrors(o), [], `${o.kind} fails the Kubernetes schema`);
  assert.deepEqual(unknownFieldErrors(objects), [], "no field the API does not have");
  const plan = await kube.planRegistry(name, kube.validateArgs(name, args));
  return { res, out, plan };
}

const podSpec = (res: Registered[], name: string, type = T.deployment) =>
  one(res, type, name).inputs.spec.template.spec;

describe("tls", () => {
  let d: Awaited<ReturnType<typeof deploy>>;
  before(async () => {
    d = await deploy("tls", { namespace: "registry", tls: { secretName: "registry-tls" } });
  });

  test("nginx serves HTTPS only, with the Secret's files", () => {
    const conf = d.plan.files[d.plan.nginxMain];
    assert.match(conf, /^\s+listen 5000 ssl http2;$/m);
    assert.match(conf, /ssl_certificate \/etc\/static-container-registry-tls\/tls\.crt;/);
    assert.match(conf, /ssl_certificate_key \/etc\/static-container-registry-tls\/tls\.key;/);
    assert.match(conf, /error_page 497 =400/);
  });

  test("the Secret is mounted read-only into nginx only; the probes speak HTTPS", () => {
    const spec = podSpec(d.res, "tls");
    const vol = spec.volumes.find((v: any) => v.name === "tls");
    assert.deepEqual(vol.secret.secretName, "registry-tls");
    assert.deepEqual(
      vol.secret.items.map((i: any) => i.key),
      ["tls.crt", "tls.key"],
    );
    const nginx = spec.containers.find((c: any) => c.name === "nginx");
    assert.deepEqual(
      nginx.volumeMounts.find((m: any) => m.name === "tls"),
      { name: "tls", mountPath: "/etc/static-container-registry-tls", readOnly: true },
    );
    for (const c of spec.initContainers)
      assert.ok(!c.volumeMounts.some((m: any) => m.name === "tls"), c.name);
    assert.equal(nginx.readinessProbe.httpGet.scheme, "HTTPS");
    assert.equal(nginx.livenessProbe.httpGet.scheme, "HTTPS");
  });

  test("node wiring: https:// endpoints and the CA file on the nodes", () => {
    assert.match(d.out.hostsToml, /^\[host\."https:\/\/[^"]+"\]$/m);
    assert.match(d.out.hostsToml, /^ {2}ca = "\/etc\/static-container-registry\/ca\.crt"$/m);
    assert.doesNotMatch(d.out.hostsToml, /http:\/\//);
    const yaml = parse(d.out.registriesYaml);
    assert.deepEqual((Object.values(yaml.mirrors)[0] as any).endpoint, [`https://${d.out.nodeEndpoint}`]);
    assert.deepEqual(yaml.configs, {
      [d.out.nodeEndpoint]: { tls: { ca_file: "/etc/static-container-registry/ca.crt" } },
    });
  });

  test("a caFile of one's own", async () => {
    const o = await deploy("tls-ca", { tls: { secretName: "x", caFile: "/etc/pki/registry-ca.pem" } });
    assert.match(o.out.hostsToml, /ca = "\/etc\/pki\/registry-ca\.pem"/);
  });

  test("the Secret's name may be an Output; the wiring DaemonSet places the CA where hosts.toml points", async () => {
    const pem = "-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n";
    const pulumi = await import("@pulumi/pulumi");
    const o = await deploy("tls-out", {
      wiringDaemonSet: true,
      tls: { secretName: pulumi.output("made-in-this-stack"), caCertificate: pulumi.secret(pem) },
    });
    const vol = podSpec(o.res, "tls-out").volumes.find((v: any) => v.name === "tls");
    assert.equal(vol.secret.secretName, "made-in-this-stack");
    const cm = one(o.res, "kubernetes:core/v1:ConfigMap", "tls-out-wiring");
    assert.ok(isSecretValue(cm.inputs.data), "the CA, given as a secret, stays one in the state");
    const data = unsecretDeep(cm.inputs.data);
    assert.match(data["ca.crt"], /^# Generated by static-container-registry/);
    assert.ok(data["ca.crt"].endsWith(pem));
    const pod = podSpec(o.res, "tls-out-wiring", T.daemonSet);
    assert.deepEqual(pod.volumes[2], {
      name: "ca",
      hostPath: { path: "/etc/static-container-registry", type: "DirectoryOrCreate" },
    });
    assert.deepEqual(baselineViolations(pod), ["hostPath volumes: certs", "hostPath volumes: ca"]);
    for (const c of [...pod.initContainers, ...pod.containers]) {
      assert.deepEqual(
        c.env.find((e: any) => e.name === "CA_FILE"),
        { name: "CA_FILE", value: "/host/static-container-registry-ca/ca.crt" },
      );
      assert.ok(
        c.volumeMounts.some(
          (m: any) => m.name === "ca" && m.mountPath === "/host/static-container-registry-ca",
        ),
      );
    }
  });

  test("a caCertificate that is not a PEM certificate, and a Secret name that is none, are refused", () => {
    assert.throws(
      () =>
        new kube.StaticContainerRegistry("tls-bad-ca", {
          imagesDir: tree.root,
          existingClaim: { claimName: "images" },
          tls: { secretName: "ok", caCertificate: "not a certificate" },
        }),
      /tls\.caCertificate must be the PEM text of a certificate/,
    );
  });

  test("without tls: plain HTTP, no Secret, HTTP probes", async () => {
    const o = await deploy("plain", {});
    assert.match(o.plan.files[o.plan.nginxMain], /^\s+listen 5000;$/m);
    const spec = podSpec(o.res, "plain");
    assert.ok(!spec.volumes.some((v: any) => v.secret));
    assert.equal(spec.containers[0].readinessProbe.httpGet.scheme, "HTTP");
    assert.match(o.out.hostsToml, /\[host\."http:\/\//);
  });
});

describe("networkPolicy", () => {
  test("ClusterIP: ingress from the namespaces and CIDRs to the registry port; no egress", async () => {
    const d = await deploy("np", {
      namespace: "registry",
      networkPolicy: { namespaces: ["ci", "builds"], cidrs: ["10.20.0.0/16"] },
    });
    const np = one(d.res, T.networkPolicy, "np").inputs;
    assert.equal(np.metadata.namespace, "registry");
    assert.deepEqual(np.spec.podSelector, {
      matchLabels: {
        "app.kubernetes.io/name": "static-container-registry",
        // The instance name: resource name plus a hash of project and stack.
        "app.kubernetes.io/instance": instanceName("np", "static-container-registry-test", "test"),
      },
    });
    assert.deepEqual(np.spec.policyTypes, ["Ingress", "Egress"]);
    assert.deepEqual(np.spec.egress, []);
    assert.deepEqual(np.spec.ingress, [
      {
        from: [
          { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ci" } } },
          { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "builds" } } },
          { ipBlock: { cidr: "10.20.0.0/16" } },
        ],
        ports: [{ protocol: "TCP", port: 5000 }],
      },
    ]);
    // The policy selects exactly the registry's pods.
    const labels = one(d.res, T.deployment, "np").inputs.spec.template.metadata.labels;
    for (const [k, v] of Object.entries(np.spec.podSelector.matchLabels)) assert.equal(labels[k], v);
  });

  test("NodePort: the nodes are always let in", async () => {
    const d = await deploy("np-nodeport", {
      serviceType: "NodePort",
      nodePort: 30500,
      networkPolicy: { nodeCidrs: ["192.168.10.0/24"] },
    });
    const np = one(d.res, T.networkPolicy, "np-nodeport").inputs;
    assert.deepEqual(np.spec.ingress[0].from, [{ ipBlock: { cidr: "192.168.10.0/24" } }]);
  });

  test("with metricsPort: the same peers reach the metrics port too", async () => {
    const d = await deploy("np-metrics", {
      metricsPort: 9113,
      networkPolicy: { namespaces: ["monitoring"] },
    });
    const np = one(d.res, T.networkPolicy, "np-metrics").inputs;
    assert.deepEqual(np.spec.ingress[0].ports, [
      { protocol: "TCP", port: 5000 },
      { protocol: "TCP", port: 9113 },
    ]);
  });

  test("DaemonSet on node ports: the nodes are let in to the pod port", async () => {
    const d = await deploy("np-ds", {
      existingClaim: undefined,
      hostPath: { path: "/var/lib/images", anyNode: true },
      workload: "DaemonSet",
      port: 5050,
      networkPolicy: { nodeCidrs: ["10.0.0.0/24", "fd00::/64"] },
    } as any);
    const np = one(d.res, T.networkPolicy, "np-ds").inputs;
    assert.deepEqual(np.spec.ingress[0].ports, [{ protocol: "TCP", port: 5050 }]);
    assert.deepEqual(
      np.spec.ingress[0].from.map((f: any) => f.ipBlock.cidr),
      ["10.0.0.0/24", "fd00::/64"],
    );
  });

  test("no peers at all lets nobody in (not everybody)", async () => {
    const d = await deploy("np-none", { networkPolicy: {} });
    assert.deepEqual(one(d.res, T.networkPolicy, "np-none").inputs.spec.ingress, []);
  });

  test("without networkPolicy there is none", async () => {
    const d = await deploy("np-off", {});
    assert.ok(!d.res.some((r) => r.type === T.networkPolicy));
  });
});

describe("argument mistakes, all at once", () => {
  test("bad tls and networkPolicy fields are named", () => {
    assert.throws(
      () =>
        kube.validateArgs("bad", {
          imagesDir: tree.root,
          existingClaim: { claimName: "images" },
          serviceType: "NodePort",
          tls: { secretName: "Not_A_Name", caFile: "relative/ca.crt" },
          networkPolicy: { namespaces: ["ok", "NOT OK"], cidrs: ["10.0.0.0/33", "300.1.1.1/8"] },
        }),
      (e: Error) => {
        for (const re of [
          /tls\.secretName "Not_A_Name" is not a valid Secret name/,
          /tls\.caFile "relative\/ca\.crt" must be an absolute path on the nodes/,
          /networkPolicy\.namespaces: "NOT OK" is not a namespace name/,
          /networkPolicy\.cidrs: "10\.0\.0\.0\/33" is not a CIDR/,
          /networkPolicy\.cidrs: "300\.1\.1\.1\/8" is not a CIDR/,
          /networkPolicy\.nodeCidrs is required when the nodes pull on a node port or the host network/,
        ])
          assert.match(e.message, re);
        return true;
      },
    );
  });
});
