/**
 * The static pod builder: the Pod in its manifest against the Kubernetes
 * schema and the Pod Security levels, the files to place (order, paths,
 * modes), and what a change of the images does to them. The pod is run for
 * real by staticPod.e2e.test.ts.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { validateArgs } from "../../src/kubernetes/args";
import { planRegistry } from "../../src/kubernetes/plan";
import { staticPod, type StaticPodOptions } from "../../src/kubernetes/staticPod";
import { REGISTRY_CONTAINER_SECURITY, baselineViolations, restrictedViolations } from "./podSecurity";
import { schemaErrors, unknownFieldErrors } from "./schema";
import { writeSyntheticTree } from "./synthetic";
import { tmpDir } from "../support/tools";

/* eslint-disable @typescript-eslint/no-explicit-any */

async function options(imagesDir: string, extra: Partial<StaticPodOptions> = {}): Promise<StaticPodOptions> {
  const a = validateArgs("boot", {
    imagesDir,
    hostPath: { path: "/var/lib/images", anyNode: true },
    port: 5001,
  });
  const plan = await planRegistry("boot", a);
  return {
    name: "boot",
    args: { ...a, image: "registry.invalid/nginx:1", resources: { requests: { cpu: "50m" } } },
    plan,
    imagesPath: "/var/lib/images",
    ...extra,
  };
}

describe("static pod", () => {
  test("the manifest holds a valid Pod: host network, the Deployment's hardening, config and images by read-only hostPath", async () => {
    const root = path.join(tmpDir("static-pod"), "images");
    writeSyntheticTree(root, { repos: 2, tagsPerRepo: 2 });
    const sp = staticPod(await options(root));
    const manifest = sp.files[sp.files.length - 1];
    assert.equal(manifest.path, "/etc/kubernetes/manifests/boot.yaml");
    const pod: any = parse(manifest.content);
    assert.deepEqual(parse(manifest.content), sp.pod, "the manifest is the Pod");
    assert.deepEqual(schemaErrors(pod), []);
    assert.deepEqual(unknownFieldErrors([pod]), []);

    assert.equal(pod.metadata.namespace, "kube-system");
    assert.equal(pod.spec.hostNetwork, true);
    assert.equal(pod.spec.priorityClassName, "system-node-critical");
    assert.deepEqual(pod.spec.volumes, [
      { name: "config", hostPath: { path: sp.configDir, type: "Directory" } },
      { name: "images", hostPath: { path: "/var/lib/images", type: "Directory" } },
      { name: "scratch", emptyDir: { sizeLimit: "64Mi" } },
    ]);
    // Everything beyond "restricted" is the host network and the two hostPaths, nothing else.
    assert.deepEqual(baselineViolations(pod.spec).sort(), [
      "host namespaces: hostNetwork=true",
      "hostPath volumes: config",
      "hostPath volumes: images",
      "hostPorts: nginx 5001",
    ]);
    assert.deepEqual(
      restrictedViolations(pod.spec).filter((v) => !v.startsWith("volume types:")),
      baselineViolations(pod.spec),
    );
    for (const c of [...pod.spec.initContainers, ...pod.spec.containers]) {
      assert.equal(c.image, "registry.invalid/nginx:1");
      assert.deepEqual(c.securityContext, REGISTRY_CONTAINER_SECURITY);
      for (const m of c.volumeMounts)
        assert.equal(m.readOnly === true, m.name !== "scratch", `${c.name} ${m.name}`);
    }
    assert.deepEqual(pod.spec.containers[0].command, [
      "nginx",
      "-c",
      "/etc/static-container-registry/nginx.conf",
      "-p",
      "/run/static-container-registry/",
      "-e",
      "stderr",
    ]);
    assert.deepEqual(pod.spec.containers[0].ports, [
      { name: "http", containerPort: 5001, hostPort: 5001, protocol: "TCP" },
    ]);
  });

  test("the files: every rendered file in the content's config dir (0444), then the manifest (0600)", async () => {
    const root = path.join(tmpDir("static-pod-files"), "images");
    writeSyntheticTree(root, { repos: 3, tagsPerRepo: 2 });
    const o = await options(root, {
      manifestsDir: "/var/lib/rancher/k3s/agent/pod-manifests",
      configRoot: "/opt/scr",
      namespace: "registry",
    });
    const sp = staticPod(o);
    assert.equal(sp.configParent, "/opt/scr/boot");
    assert.equal(sp.configDir, `/opt/scr/boot/${o.plan.contentHash.slice(0, 16)}`);
    assert.equal(sp.manifestPath, "/var/lib/rancher/k3s/agent/pod-manifests/boot.yaml");
    const names = Object.keys(o.plan.files).sort();
    assert.deepEqual(
      sp.files.map((f) => [f.path, f.mode]),
      [...names.map((n) => [`${sp.configDir}/${n}`, "0444"]), [sp.manifestPath, "0600"]],
    );
    for (const n of names)
      assert.equal(sp.files.find((f) => f.path === `${sp.configDir}/${n}`)!.content, o.plan.files[n]);
    assert.equal((sp.pod as any).metadata.namespace, "registry");
  });

  test("changed images: a new config dir and a manifest whose content hash differs, so the kubelet replaces the pod", async () => {
    const dir = tmpDir("static-pod-change");
    const r1 = path.join(dir, "one");
    const r2 = path.join(dir, "two");
    writeSyntheticTree(r1, { repos: 2, tagsPerRepo: 1 });
    writeSyntheticTree(r2, { repos: 2, tagsPerRepo: 2 });
    const a = staticPod(await options(r1));
    const b = staticPod(await options(r2));
    const again = staticPod(await options(r1));
    assert.deepEqual(again.files, a.files, "deterministic");
    assert.notEqual(a.configDir, b.configDir);
    assert.equal(a.configParent, b.configParent);
    const hash = (s: any) => s.pod.metadata.annotations["static-container-registry/content-hash"];
    assert.notEqual(hash(a), hash(b));
    assert.notEqual(a.files.at(-1)!.content, b.files.at(-1)!.content);
  });

  test("bad names and paths are refused, naming the field", async () => {
    const root = path.join(tmpDir("static-pod-bad"), "images");
    writeSyntheticTree(root, { repos: 1, tagsPerRepo: 1 });
    const o = await options(root);
    const cases = [
      { description: "name", extra: { name: "Boot_1" }, want: /name "Boot_1" must be a DNS label/ },
      { description: "relative images path", extra: { imagesPath: "images" }, want: /imagesPath "images"/ },
      { description: "dot-dot", extra: { configRoot: "/etc/../x" }, want: /configRoot "\/etc\/\.\.\/x"/ },
      { description: "manifests dir", extra: { manifestsDir: "/etc/k8s $(x)" }, want: /manifestsDir/ },
    ];
    for (const c of cases) assert.throws(() => staticPod({ ...o, ...c.extra }), c.want, c.description);
  });
});
