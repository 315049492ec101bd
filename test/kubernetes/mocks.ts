/**
 * Pulumi mocks that behave like the Kubernetes provider where the component
 * relies on it (auto-naming, Service cluster IP and node port allocation, a
 * load balancer address), and record every resource registered, with its
 * resolved inputs (what would be sent to the API server) and its URN (which
 * shows its parent).
 *
 * Install with `await installMocks()` BEFORE importing the code under test.
 */
import * as pulumi from "@pulumi/pulumi";
import { sha256 } from "../../src/inventory";

/* eslint-disable @typescript-eslint/no-explicit-any */

/** The component outputs the tests wait for and compare (in this order). */
export const OUTPUTS = [
  "namespace",
  "serviceName",
  "deploymentName",
  "endpoint",
  "nodeEndpoint",
  "nodePort",
  "configMapNames",
  "repositories",
  "summary",
  "totalBytes",
  "contentHash",
  "hostsToml",
  "registriesYaml",
  "upstreamHost",
] as const;

export interface Registered {
  type: string;
  name: string;
  /** The resolved inputs, as the provider receives them. */
  inputs: any;
  /** The state the mock provider returned. */
  state: any;
  urn?: string;
}

const registered: Registered[] = [];

const short = (s: string) => sha256(s).slice("sha256:".length, "sha256:".length + 8);

/** Kubernetes kinds that live in a namespace (the ones the component creates). */
const NAMESPACED = new Set([
  "ConfigMap",
  "Deployment",
  "DaemonSet",
  "Service",
  "PersistentVolumeClaim",
  "PodDisruptionBudget",
  "NetworkPolicy",
]);

/** A deep copy of plain objects and arrays; anything else (assets, archives) by reference. */
function cloneInputs(v: any): any {
  if (Array.isArray(v)) return v.map(cloneInputs);
  if (v && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype)
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, cloneInputs(x)]));
  return v;
}

function provider(args: pulumi.runtime.MockResourceArgs): { id: string; state: any } {
  const state = cloneInputs(args.inputs ?? {});
  if (args.type.startsWith("kubernetes:")) {
    state.metadata ??= {};
    // Pulumi auto-naming: resource name plus a random suffix (here: a stable one).
    state.metadata.name ??= `${args.name}-${short(args.name)}`;
    if (NAMESPACED.has(state.kind)) state.metadata.namespace ??= "default";
    if (state.kind === "Service") {
      state.spec.clusterIP ??= "10.43.0.10";
      state.spec.clusterIPs ??= [state.spec.clusterIP];
      if (state.spec.type === "NodePort" || state.spec.type === "LoadBalancer") {
        for (const p of state.spec.ports) p.nodePort ??= 30000 + (parseInt(short(args.name), 16) % 2768);
      }
      if (state.spec.type === "LoadBalancer")
        state.status = { loadBalancer: { ingress: [{ ip: "192.0.2.10" }] } };
    }
  }
  const id = args.type.startsWith("kubernetes:")
    ? `${state.metadata?.namespace ?? ""}/${state.metadata?.name}`
    : `${args.name}-id`;
  return { id, state };
}

let installed: Promise<void> | undefined;

/** Installs the mocks (once per process) for `project` (a Pulumi program's `new Config()` reads that namespace). */
export function installMocks(project = "static-container-registry-test"): Promise<void> {
  installed ??= pulumi.runtime.setMocks(
    {
      newResource(args) {
        const { id, state } = provider(args);
        registered.push({ type: args.type, name: args.name, inputs: args.inputs, state });
        return { id, state };
      },
      call(args) {
        return args.inputs;
      },
    },
    project,
    "test",
    false,
  );
  return installed;
}

/** The value of an Output (rejects if the Output's computation failed). */
export function valueOf<T>(o: pulumi.Output<T>): Promise<T> {
  return (o as any).promise() as Promise<T>;
}

/** Waits until every pending resource registration has been answered. */
export async function settle(): Promise<void> {
  // waitForRPCs is internal to the SDK: the only way to know that every
  // registration started so far has been answered.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const settings = require("@pulumi/pulumi/runtime/settings");
  await settings.waitForRPCs();
}

/** The resources a component named `name` registered (itself and its children), with their URNs. */
export function resourcesOf(name: string): Registered[] {
  const monitor = (pulumi.runtime as any).getMonitor();
  const urns: string[] = monitor?.resources ? [...monitor.resources.keys()] : [];
  return registered
    .filter((r) => r.name === name || r.name.startsWith(`${name}-`))
    .map((r) => ({
      ...r,
      urn: urns.find((u) => u.endsWith(`::${r.type}::${r.name}`) || u.endsWith(`$${r.type}::${r.name}`)),
    }));
}

/** The one resource of `type` named `name` (throws with the list if absent). */
export function one(list: Registered[], type: string, name: string): Registered {
  const r = list.find((x) => x.type === type && x.name === name);
  if (!r) throw new Error(`no ${type} ${name}; have ${list.map((x) => `${x.type} ${x.name}`).join(", ")}`);
  return r;
}
