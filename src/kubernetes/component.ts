/**
 * The Pulumi component: one resource that deploys the registry.
 *
 *   StaticContainerRegistry (static-container-registry:index:StaticContainerRegistry)
 *   ├── Namespace                      (createNamespace)
 *   ├── PersistentVolume + Claim       (persistentVolume storage)
 *   ├── ConfigMap × N                  (rendered files, ≤ maxConfigMapBytes each)
 *   ├── Deployment | DaemonSet         (drift guard init container + nginx; `workload`)
 *   ├── PodDisruptionBudget            (Deployment, replicas > 1)
 *   ├── Service
 *   └── ConfigMap kube-public/local-registry-hosting   (localRegistryHosting)
 *
 * A thin shell: validate the args (at construction, every problem at once),
 * mirror the listed `images` and then plan (scan + render, see steps/mirror.ts
 * and plan.ts), then run the build steps (steps/). The
 * images dir is scanned when the component is constructed; how many
 * ConfigMaps there are depends on it, so the children are registered once the
 * scan is done (Pulumi's async `initialize`), and the outputs resolve then.
 *
 * Each output is declared once, as a documented field of the class (which is
 * also what the schema for other languages is inferred from). The steps fill
 * in the record of outputs.ts, which lives below them; the check after the
 * class makes the two agree exactly, and `complete()` names a step that
 * forgot an output.
 */
import * as pulumi from "@pulumi/pulumi";
import type { InventorySummary } from "../inventory/model";
import {
  validateArgs,
  withSecretCredentials,
  type ResolvedArgs,
  type StaticContainerRegistryArgs,
  type Workload,
} from "./args";
import { instanceName } from "./labels";
import type { RegistryOutputName, RegistryOutputs, RegistryOutputValues, ServedRepository } from "./outputs";
import { markPending, newContext, planMirrored, stepsFor } from "./steps";

export const STATIC_CONTAINER_REGISTRY_TYPE = "static-container-registry:index:StaticContainerRegistry";

// The constructor validates the args synchronously (so mistakes fail at
// construction, with every problem listed) and hands the resolved form to
// `initialize`, which the base class calls with the very same args object.
const resolvedArgs = new WeakMap<object, ResolvedArgs>();

function checked(name: string, args: StaticContainerRegistryArgs): StaticContainerRegistryArgs {
  const resolved = validateArgs(name, args);
  const withNodes = withSecretCredentials(args, resolved.nodes);
  // The component's own inputs are kept in the stack's state: registry
  // passwords given as plain strings must not be stored there in the clear.
  const inputs =
    args.registryCredentials === undefined
      ? withNodes
      : {
          ...withNodes,
          registryCredentials: pulumi.secret(args.registryCredentials) as typeof args.registryCredentials,
        };
  resolvedArgs.set(inputs, resolved);
  return inputs;
}

/**
 * A read-only OCI/Docker registry served by plain nginx from a directory of
 * images, deployed to Kubernetes: ConfigMaps with the rendered nginx config, the images volume, read-only nginx pods and their Service; its outputs say how to wire the nodes' container runtimes to it.
 */
export class StaticContainerRegistry extends pulumi.ComponentResource {
  /** Namespace of the Service, Deployment and ConfigMaps. */
  public readonly namespace: pulumi.Output<string> = this.output("namespace");
  /** Name of the Service. */
  public readonly serviceName: pulumi.Output<string> = this.output("serviceName");
  /** Name of the Deployment (with workload `DaemonSet`: of the DaemonSet, as `workloadName`). */
  public readonly deploymentName: pulumi.Output<string> = this.output("deploymentName");
  /** What runs the pods: `Deployment` or `DaemonSet`. */
  public readonly workload: pulumi.Output<Workload> = this.output("workload");
  /** Name of the Deployment or DaemonSet. */
  public readonly workloadName: pulumi.Output<string> = this.output("workloadName");
  /** In-cluster endpoint `host:port` (the Service's DNS name). */
  public readonly endpoint: pulumi.Output<string> = this.output("endpoint");
  /** `host:port` the nodes' container runtimes use (see `nodeEndpoint` in the args). */
  public readonly nodeEndpoint: pulumi.Output<string> = this.output("nodeEndpoint");
  /** The Service's node port, for NodePort and LoadBalancer services. */
  public readonly nodePort: pulumi.Output<number | undefined> = this.output("nodePort");
  /** Names of the ConfigMaps holding the rendered config, in order. */
  public readonly configMapNames: pulumi.Output<string[]> = this.output("configMapNames");
  /** Repositories and tags served, with the digest each tag resolves to. */
  public readonly repositories: pulumi.Output<ServedRepository[]> = this.output("repositories");
  /** Totals of what is served (repositories, tags, manifests, blobs, bytes). */
  public readonly summary: pulumi.Output<InventorySummary> = this.output("summary");
  /** Bytes of unique manifests and blobs served. */
  public readonly totalBytes: pulumi.Output<number> = this.output("totalBytes");
  /** sha256 of the rendered files, as annotated on the pod template. */
  public readonly contentHash: pulumi.Output<string> = this.output("contentHash");
  /** containerd `hosts.toml` for `/etc/containerd/certs.d/<upstreamHost>/hosts.toml`. */
  public readonly hostsToml: pulumi.Output<string> = this.output("hostsToml");
  /**
   * One containerd `hosts.toml` per upstream host (for
   * `/etc/containerd/certs.d/<host>/hosts.toml`): every host the images tree is
   * prefixed with (`docker.io/library/alpine`), those of `images`, and `upstreamHost`.
   */
  public readonly hostsTomls: pulumi.Output<Record<string, string>> = this.output("hostsTomls");
  /** k3s / RKE2 `registries.yaml`: one `mirrors:` entry per upstream host. */
  public readonly registriesYaml: pulumi.Output<string> = this.output("registriesYaml");
  /** The upstream host the node wiring redirects. */
  public readonly upstreamHost: pulumi.Output<string> = this.output("upstreamHost");

  constructor(name: string, args: StaticContainerRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super(STATIC_CONTAINER_REGISTRY_TYPE, name, checked(name, args), opts);
  }

  /** Scans, renders and registers the children (called by the base class constructor). */
  protected async initialize(
    args: pulumi.Inputs,
    _opts?: pulumi.ComponentResourceOptions,
    name?: string,
  ): Promise<RegistryOutputs> {
    const a = resolvedArgs.get(args);
    if (!a || !name) throw new Error("internal: StaticContainerRegistry args were not validated");
    const instance = instanceName(name, pulumi.getProject(), pulumi.getStack());
    const { plan, pending } = await planMirrored(name, a, this);
    const ctx = newContext(name, instance, a, plan, this);
    for (const step of stepsFor(a)) step(ctx);
    if (pending) markPending(ctx.outputs, pending);
    const outputs = this.complete(ctx.outputs);
    this.registerOutputs(outputs);
    return outputs;
  }

  /** The steps' outputs, checked to be all there: a step that forgets one is a bug, named here. */
  private complete(outputs: Partial<RegistryOutputs>): RegistryOutputs {
    // The output fields are this object's own Output-valued properties (the
    // base class keeps its state in `__`-prefixed ones, and `urn`).
    const missing = Object.entries(this)
      .filter(([k, v]) => pulumi.Output.isInstance(v) && k !== "urn" && !k.startsWith("__"))
      .map(([k]) => k)
      .filter((k) => !(k in outputs));
    if (missing.length > 0)
      throw new Error(`internal: no build step set the output(s) ${missing.join(", ")}`);
    return outputs as RegistryOutputs;
  }

  /** The output `key`, once the steps have produced it. */
  private output<K extends RegistryOutputName>(key: K): pulumi.Output<RegistryOutputValues[K]> {
    const data = this.getData() as Promise<RegistryOutputs>;
    const value = data.then<RegistryOutputs[K]>((outputs) => outputs[key]);
    // Unwrap<T> of a generic T does not simplify to T; for these plain value types it is T.
    return pulumi.output(value) as unknown as pulumi.Output<RegistryOutputValues[K]>;
  }
}

/** The class's Output fields (but the URN), as plain values. */
type FieldValues = {
  -readonly [
    K in keyof StaticContainerRegistry as StaticContainerRegistry[K] extends pulumi.Output<unknown>
      ? K extends "urn"
        ? never
        : K
      : never
  ]: StaticContainerRegistry[K] extends pulumi.OutputInstance<infer T> ? T : never;
};
/** True when A and B are the same type (not merely assignable one way). */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Holds<T extends true> = T;
/** Compiles only while the output fields and the outputs record agree in every name and type. */
export type OutputFieldsAreTheRecord = Holds<Same<FieldValues, RegistryOutputValues>>;
