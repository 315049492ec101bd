/**
 * The component in a user's unit test: every mode constructed under one kind
 * of Pulumi mocks, run in a child process (mocks are per process) by
 * userMocks.test.ts. Kinds:
 *   standard — test/kubernetes/mocks.ts, which allocates what a cluster would;
 *   inputs   — what stacks' unit tests usually install: state = inputs;
 *   preview  — the same, with Pulumi's preview flag (unreturned properties unknown).
 *
 * usage: node userMocksProgram.js KIND IMAGES_DIR → one JSON line:
 *   { outcomes: {mode: {output: "known" | "unknown" | "error: …" | "timeout"}}, values, unhandled, types }
 */
import * as pulumi from "@pulumi/pulumi";
import { OUTPUTS, installMocks } from "./mocks";

/* eslint-disable @typescript-eslint/no-explicit-any */

export const MODES: Record<string, (imagesDir: string) => Record<string, unknown>> = {
  hostPath: (imagesDir) => ({ imagesDir, hostPath: { path: "/var/lib/images", nodeNames: ["node-1"] } }),
  existingClaim: (imagesDir) => ({
    imagesDir,
    existingClaim: { claimName: "images" },
    namespace: "registry",
    createNamespace: true,
  }),
  persistentVolume: (imagesDir) => ({
    imagesDir,
    persistentVolume: { spec: { nfs: { server: "nfs.invalid", path: "/images" } } },
  }),
  nodePortFixed: (imagesDir) => ({
    imagesDir,
    existingClaim: { claimName: "images" },
    serviceType: "NodePort",
    nodePort: 30500,
  }),
  nodePortAllocated: (imagesDir) => ({
    imagesDir,
    existingClaim: { claimName: "images" },
    serviceType: "NodePort",
  }),
  loadBalancer: (imagesDir) => ({
    imagesDir,
    existingClaim: { claimName: "images" },
    serviceType: "LoadBalancer",
  }),
  hostNetwork: (imagesDir) => ({
    imagesDir,
    hostPath: { path: "/var/lib/images", anyNode: true },
    hostNetwork: true,
  }),
  localRegistryHosting: (imagesDir) => ({
    imagesDir,
    existingClaim: { claimName: "images" },
    localRegistryHosting: true,
  }),
  replicas: (imagesDir) => ({ imagesDir, existingClaim: { claimName: "images" }, replicas: 3 }),
  nodeEndpoint: (imagesDir) => ({
    imagesDir,
    existingClaim: { claimName: "images" },
    nodeEndpoint: "registry.internal:5000",
  }),
  bootstrap: (imagesDir) => ({
    imagesDir,
    existingClaim: { claimName: "images" },
    serviceName: "registry",
    skipAwait: true,
    customTimeouts: { create: "2m" },
  }),
};

const types: string[] = [];

async function install(kind: string): Promise<void> {
  if (kind === "standard") {
    await installMocks();
    return;
  }
  // The pattern the README recommends for stacks' unit tests.
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        types.push(args.type);
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: (args) => args.inputs,
    },
    "project",
    "stack",
    kind === "preview",
  );
}

/** "known" / "unknown" / "error: …" / "timeout" for one output, and its value when known. */
async function outcome(o: pulumi.Output<unknown>): Promise<{ state: string; value?: unknown }> {
  const settled = Promise.all([
    (o as any).isKnown as Promise<boolean>,
    (o as any).promise() as Promise<unknown>,
  ]).then(
    ([known, value]) => (known ? { state: "known", value } : { state: "unknown" }),
    (e) => ({ state: `error: ${e instanceof Error ? e.message : String(e)}` }),
  );
  const timeout = new Promise<{ state: string }>((r) =>
    setTimeout(() => r({ state: "timeout" }), 10000).unref(),
  );
  return Promise.race([settled, timeout]);
}

async function main() {
  const [kind, imagesDir] = process.argv.slice(2);
  const unhandled: string[] = [];
  process.on("unhandledRejection", (e) =>
    unhandled.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e)),
  );
  await install(kind);
  const { StaticContainerRegistry } = await import("../../src/kubernetes");
  const outcomes: Record<string, Record<string, string>> = {};
  const values: Record<string, Record<string, unknown>> = {};
  for (const [mode, args] of Object.entries(MODES)) {
    const reg = new StaticContainerRegistry(`m-${mode.toLowerCase()}`, args(imagesDir) as any);
    outcomes[mode] = {};
    values[mode] = {};
    for (const k of OUTPUTS) {
      const r = await outcome((reg as any)[k]);
      outcomes[mode][k] = r.state;
      if (r.state === "known") values[mode][k] = r.value;
    }
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  await require("@pulumi/pulumi/runtime/settings").waitForRPCs();
  await new Promise((r) => setTimeout(r, 200));
  process.stdout.write(
    JSON.stringify({ outcomes, values, unhandled, types, exitCode: process.exitCode ?? 0 }) + "\n",
  );
}

// Run as a program; imported by the test for MODES only.
if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`${e?.stack ?? e}\n`);
    process.exit(2);
  });
}
