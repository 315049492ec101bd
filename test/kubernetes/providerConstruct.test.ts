/**
 * The component as another language's SDK reaches it: a construct request's
 * inputs are serialized as on the wire (plain values, Outputs with
 * dependencies, secrets, unknowns), turned back into values by the provider
 * server's own `deserializeInputs`, and handed to @pulumi/pulumi's
 * ComponentProvider `construct` — the code path `pulumi package add` users run.
 * It must register the same resources as the TypeScript constructor, or fail
 * with an InvalidArgsError that names the argument.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { before, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, resourcesOf, settle, valueOf, type Registered } from "./mocks";
import { writeSyntheticTree, type SyntheticTree } from "./synthetic";
import { tmpDir } from "../support/tools";

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-require-imports */

const TYPE = "static-container-registry:index:StaticContainerRegistry";
const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
const DEP_URN = "urn:pulumi:test::static-container-registry-test::kubernetes:core/v1:Namespace::elsewhere";

let provider: any;
let deserializeInputs: (s: any, deps: any) => Promise<Record<string, any>>;
let serializeProperties: (label: string, props: any, opts?: any) => Promise<any>;
let Struct: any;
let specialSigKey: string;
let tree: SyntheticTree;

before(async () => {
  await installMocks();
  const { ComponentProvider } = require("@pulumi/pulumi/provider/experimental/provider");
  ({ deserializeInputs } = require("@pulumi/pulumi/provider/server"));
  ({ serializeProperties, specialSigKey } = require("@pulumi/pulumi/runtime/rpc"));
  Struct = require("google-protobuf/google/protobuf/struct_pb").Struct;
  const { StaticContainerRegistry } = await import("../../src/kubernetes");
  provider = new ComponentProvider({
    name: "static-container-registry",
    dirname: REPO_ROOT,
    components: [StaticContainerRegistry],
  });
  tree = writeSyntheticTree(path.join(tmpDir("construct"), "images"), { repos: 2, tagsPerRepo: 2 });
});

/**
 * What the engine hands the provider for `inputs`: the wire form of each
 * value, and per input the URNs it depends on (an SDK sends the dependencies
 * of an Output it passes).
 */
async function overTheWire(
  inputs: Record<string, unknown>,
  dependsOn: Record<string, string[]> = {},
): Promise<Record<string, any>> {
  const wire = await serializeProperties("construct inputs", inputs, { keepOutputValues: false });
  const deps = new Map(Object.entries(dependsOn).map(([k, urns]) => [k, { getUrnsList: () => urns }]));
  return deserializeInputs(Struct.fromJavaScript(wire), deps);
}

function baseArgs(): Record<string, any> {
  return {
    imagesDir: tree.root,
    hostPath: { path: "/var/lib/images", anyNode: true },
    serviceType: "NodePort",
    nodePort: 30500,
  };
}

/** `x` with every secret wrapper replaced by the value it wraps. */
function unwrapSecrets(x: any): any {
  if (Array.isArray(x)) return x.map(unwrapSecrets);
  if (x && typeof x === "object") {
    if (specialSigKey in x && "value" in x) return unwrapSecrets(x.value);
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return x;
}

/**
 * Each child's type, name and inputs, secrets unwrapped, with the instance
 * name replaced by NAME and the names Pulumi derives from it (auto-name and
 * instance-label suffixes) by NAME-#.
 */
function shape(list: Registered[], instance: string): string[] {
  return list
    .filter((r) => r.type !== TYPE)
    .map((r) =>
      JSON.stringify({ type: r.type, name: r.name, inputs: unwrapSecrets(r.inputs) })
        .split(instance)
        .join("NAME")
        .replace(/NAME((?:-[a-z0-9]+)*?)-[0-9a-f]{8}\b/g, "NAME$1-#"),
    )
    .sort();
}

/** Whether `x` holds a secret anywhere. */
function holdsSecret(x: any): boolean {
  if (Array.isArray(x)) return x.some(holdsSecret);
  if (x && typeof x === "object") return specialSigKey in x || Object.values(x).some(holdsSecret);
  return false;
}

async function constructed(name: string, inputs: Record<string, any>) {
  const result = await provider.construct(name, TYPE, inputs, {});
  await settle();
  return result;
}

test("plain values, Outputs with dependencies and secrets give the TypeScript constructor's resources", async () => {
  const { StaticContainerRegistry } = await import("../../src/kubernetes");
  const tsArgs = { ...baseArgs(), namespace: "registry", image: "mirror.example/nginx:1.27" };
  const ts = new StaticContainerRegistry("ts-reg", tsArgs as any);
  await valueOf(ts.nodeEndpoint);
  await settle();

  const inputs = await overTheWire(
    { ...baseArgs(), namespace: "registry", image: pulumi.secret("mirror.example/nginx:1.27") },
    { namespace: [DEP_URN] },
  );
  // The server keeps plain values plain and wraps the dependent and the secret value as Outputs.
  assert.equal(typeof inputs.imagesDir, "string");
  assert.ok(pulumi.Output.isInstance(inputs.namespace), "namespace arrives as an Output");
  assert.ok(pulumi.Output.isInstance(inputs.image), "image arrives as an Output");
  const result = await constructed("sdk-reg", inputs);

  assert.deepEqual(shape(resourcesOf("sdk-reg"), "sdk-reg"), shape(resourcesOf("ts-reg"), "ts-reg"));
  assert.ok(shape(resourcesOf("sdk-reg"), "sdk-reg").length >= 3, "the children were registered");
  // The state the provider returns holds the component's outputs.
  assert.equal(await valueOf(result.state.nodeEndpoint), "127.0.0.1:30500");
  assert.deepEqual(await valueOf(result.state.repositories), await valueOf(ts.repositories));
  // The secret stays a secret on the child that uses it (and only there).
  const deployment = resourcesOf("sdk-reg").find((r) => r.type === "kubernetes:apps/v1:Deployment")!;
  assert.ok(holdsSecret(deployment.inputs), "the Deployment that runs the image holds it as a secret");
  assert.ok(
    !holdsSecret(resourcesOf("ts-reg").find((r) => r.type === "kubernetes:apps/v1:Deployment")!.inputs),
  );
});

test("an unknown value (a preview) where an Output is accepted: construct succeeds and the scan outputs resolve", async () => {
  const inputs = await overTheWire(baseArgs());
  // What the server hands over in a preview for a value another resource has
  // not produced yet (the mocks run as an update, where the wire's unknown
  // sentinel would decode to undefined): an Output that is not known.
  inputs.namespace = new (pulumi.Output as any)(
    [],
    Promise.resolve(undefined),
    Promise.resolve(false),
    Promise.resolve(false),
    Promise.resolve([]),
  );
  const result = await constructed("preview-reg", inputs);
  assert.ok(result.urn, "a URN came back");
  assert.ok(resourcesOf("preview-reg").some((r) => r.type === "kubernetes:core/v1:Service"));
  assert.equal(
    ((await valueOf(result.state.summary as any)) as any).tags,
    tree.tags.length,
    "scan outputs resolve",
  );
});

const REFUSED: {
  description: string;
  inputs: () => Record<string, any>;
  deps?: Record<string, string[]>;
  want: RegExp;
}[] = [
  {
    description: "a misspelt argument name",
    inputs: () => ({ ...baseArgs(), imagesDri: "/x" }),
    want: /imagesDri.*did you mean imagesDir/,
  },
  {
    description: "a secret where a plain value is needed (imagesDir is scanned at construction)",
    inputs: () => ({ ...baseArgs(), imagesDir: pulumi.secret(tree.root) }),
    want: /imagesDir/,
  },
  {
    description: "a dependent value where a plain value is needed (port is rendered into the config)",
    inputs: () => ({ ...baseArgs(), port: 5000 }),
    deps: { port: [DEP_URN] },
    want: /port/,
  },
  {
    description: "a struct input that arrives as an Output (hostPath from another resource)",
    inputs: () => ({ ...baseArgs(), hostPath: { path: "/var/lib/images", anyNode: true } }),
    deps: { hostPath: [DEP_URN] },
    want: /hostPath/,
  },
];

for (const c of REFUSED) {
  test(`refused with an InvalidArgsError: ${c.description}`, async () => {
    const { InvalidArgsError } = await import("../../src/kubernetes/args");
    const inputs = await overTheWire(c.inputs(), c.deps);
    await assert.rejects(
      async () => {
        await provider.construct(`bad-${REFUSED.indexOf(c)}`, TYPE, inputs, {});
      },
      (e: any) => {
        assert.ok(
          e instanceof InvalidArgsError,
          `an InvalidArgsError, got ${e?.constructor?.name}: ${e?.message}`,
        );
        assert.match(e.message, c.want);
        return true;
      },
    );
  });
}
