/**
 * `pulumi preview` of a component with `images` on a fresh (missing) images
 * dir, under Pulumi mocks in preview mode: the mirror commands have not run,
 * so nothing can be scanned yet. The preview must not fail; the config and
 * every output that depends on the scan are unknown, and the commands and the
 * wiring for the listed hosts are there.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { before, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { tmpDir } from "../support/tools";

/* eslint-disable @typescript-eslint/no-explicit-any */

const seen: { type: string; name: string; inputs: any }[] = [];

before(() =>
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        seen.push({ type: args.type, name: args.name, inputs: args.inputs });
        const state = structuredClone(args.inputs ?? {});
        if (args.type.startsWith("kubernetes:"))
          state.metadata = { name: args.name, namespace: "default", ...state.metadata };
        return { id: `${args.name}-id`, state };
      },
      call: (args) => args.inputs,
    },
    "mirror-preview-test",
    "test",
    true,
  ),
);

const isKnown = (o: pulumi.Output<unknown>): Promise<boolean> => (o as any).isKnown;

test("preview on a fresh dir: no failure, the config unknown, the commands and the wiring there", async () => {
  const root = path.join(tmpDir(`mirror-preview-${process.pid}`), "images-not-yet");
  const { StaticContainerRegistry } = await import("../../src/kubernetes/component");
  const reg = new StaticContainerRegistry("fresh", {
    imagesDir: root,
    images: ["upstream-a.invalid/team/app:v1", "alpine:3.19"],
    hostPath: { path: "/var/lib/images", anyNode: true },
    nodeEndpoint: "127.0.0.1:30500",
  });
  for (const o of [reg.repositories, reg.summary, reg.contentHash, reg.totalBytes])
    assert.equal(await isKnown(o as pulumi.Output<unknown>), false, "depends on the scan: unknown");
  const tomls = await (reg.hostsTomls as any).promise();
  assert.deepEqual(Object.keys(tomls), [
    "docker.io",
    "static-container-registry.invalid",
    "upstream-a.invalid",
  ]);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  await require("@pulumi/pulumi/runtime/settings").waitForRPCs();
  assert.equal(seen.filter((r) => r.type === "command:local:Command").length, 2);
  const configMaps = seen.filter(
    (r) => r.type === "kubernetes:core/v1:ConfigMap" && r.name.startsWith("fresh-config"),
  );
  assert.ok(configMaps.length >= 1);
  for (const cm of configMaps)
    for (const [file, v] of Object.entries(cm.inputs.data ?? {}))
      assert.ok(pulumi.isUnknown(v), `${cm.name} ${file} is unknown`);
});
