/**
 * The component's node steps under Pulumi's mocks: which remote resources
 * each node gets, what the pods then run and where, that credentials stay
 * secrets everywhere they are recorded, and that nothing remote is
 * registered without `nodes`. (The scripts themselves run in
 * test/nodes/scripts.test.ts and, over SSH, in test/e2e/nodes.e2e.test.ts.)
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { installMocks, one, resourcesOf, settle } from "../kubernetes/mocks";
import { writeSyntheticTree } from "../kubernetes/synthetic";
import { isSecretValue, plainOccurrences, remoteSteps, unsecret } from "../e2e/nodeSteps";
import { makeTar } from "../../src/demo/tar";
import { tmpDir } from "../support/tools";

/* eslint-disable @typescript-eslint/no-explicit-any */

const work = tmpDir("nodes-component");
after(() => fs.rmSync(work, { recursive: true, force: true }));
const imagesDir = path.join(work, "images");
writeSyntheticTree(imagesDir, { repos: 2, tagsPerRepo: 1, repoName: (i) => `quay.io/team/app${i}` });

/** A docker-archive holding just the manifest.json a name is read from. */
async function fakeArchive(name: string): Promise<string> {
  const file = path.join(work, "nginx.tar");
  fs.writeFileSync(
    file,
    await makeTar([{ path: "manifest.json", content: JSON.stringify([{ RepoTags: [name] }]) }]),
  );
  return file;
}

const KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END OPENSSH PRIVATE KEY-----\n";

async function deploy(name: string, extra: Record<string, unknown>) {
  await installMocks();
  const kube = await import("../../src/kubernetes");
  new kube.StaticContainerRegistry(name, { imagesDir, hostNetwork: true, ...extra } as any);
  await settle();
  return resourcesOf(name);
}

describe("component with nodes (mocks)", () => {
  it("registers prepare, images, deliver, registry image and import, and wiring for each node", async () => {
    const res = await deploy("sshnodes", {
      hostPath: { path: "/var/lib/images" },
      nodes: [
        { name: "cp-1", connection: { host: "192.0.2.1", user: "root", privateKey: KEY } },
        {
          name: "w-1",
          kubernetesNodeName: "worker-1.example",
          connection: { host: "192.0.2.2", password: "pw-123" },
        },
      ],
      registryImage: { archive: await fakeArchive("nginx:1.27") },
    });
    for (const node of ["cp-1", "w-1"]) {
      const steps = remoteSteps(res, "sshnodes", node);
      assert.deepEqual(
        steps.map((s) => s.name.slice(`sshnodes-${node}-`.length)),
        ["prepare", "images", "deliver", "registry-image", "import", "wire"],
      );
      for (const s of steps)
        assert.ok(isSecretValue(s.inputs.connection), `${s.name}: connection is a secret`);
      const byName = (k: string) => steps.find((s) => s.name.endsWith(`-${k}`))!;
      assert.equal(
        unsecret(byName("prepare").inputs.connection).host,
        node === "cp-1" ? "192.0.2.1" : "192.0.2.2",
      );
      assert.equal(byName("images").inputs.remotePath, "/var/lib/images/incoming");
      assert.match(
        byName("registry-image").inputs.remotePath,
        /^\/var\/lib\/static-container-registry\/registry-image-[0-9a-f]{16}\.tar$/,
      );
      assert.match(byName("deliver").inputs.delete, /removed the images store at \$P/);
      assert.match(byName("import").inputs.create, /IMAGE='\\''docker\.io\/library\/nginx:1\.27'\\''/);
      const wire = byName("wire").inputs.create;
      assert.ok(wire.includes('[host."http://127.0.0.1:5000/v2/quay.io"]'), "quay.io is wired to its tree");
      assert.ok(wire.includes("'\\''static-container-registry.invalid'\\''"), "and the upstreamHost");
    }
    const pod = one(res, "kubernetes:apps/v1:Deployment", "sshnodes").inputs.spec.template.spec;
    assert.equal(pod.containers[0].image, "docker.io/library/nginx:1.27");
    assert.equal(pod.containers[0].imagePullPolicy, "IfNotPresent");
    const terms = pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
    assert.deepEqual(terms[0].matchExpressions[0].values, ["cp-1", "worker-1.example"]);
    // The key and the password, given as plain strings, are secrets wherever they are recorded.
    for (const r of res) {
      for (const needle of ["c2VjcmV0LWtleS1ieXRlcw==", "pw-123"])
        assert.deepEqual(
          [...plainOccurrences(r.inputs, needle), ...plainOccurrences(r.state, needle)],
          [],
          `${r.type} ${r.name}`,
        );
    }
  });

  it("without nodes there is no remote resource", async () => {
    const res = await deploy("nonodes", { hostPath: { path: "/var/lib/images", anyNode: true } });
    assert.deepEqual(
      res.filter((r) => r.type.startsWith("command:")).map((r) => r.name),
      [],
    );
  });

  it("reports node argument mistakes with the others, at construction", async () => {
    await installMocks();
    const kube = await import("../../src/kubernetes");
    assert.throws(
      () =>
        new kube.StaticContainerRegistry("badnodes", {
          imagesDir,
          hostPath: { path: "/var/lib/images" },
          image: "nginx:1",
          nodes: [
            { name: "Bad Name", connection: { host: "h" } },
            { name: "n2", connection: { user: "root" } },
            { name: "n2", connection: { host: "x", port: 70000 } },
          ],
          registryImage: { archive: path.join(work, "missing.tar") },
        } as any),
      (e: Error) => {
        for (const want of [
          /nodes\[0\]\.name "Bad Name" must be lower-case/,
          /nodes\[1\] \(n2\): connection\.host is required/,
          /nodes\[2\]\.name "n2" is listed twice/,
          /nodes\[2\] \(n2\): connection\.port 70000 is not a TCP port/,
          /set image or registryImage, not both/,
          /registryImage\.archive ".*missing\.tar" is not a file/,
        ])
          assert.match(e.message, want);
        return true;
      },
    );
  });
});
