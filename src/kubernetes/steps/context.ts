/**
 * What the component's build steps share: who we are (name, resolved args,
 * plan), how children are registered (parent, labels, annotations), and what
 * earlier steps produced for later ones (namespace, images volume, ConfigMap
 * names, the Service, the outputs so far).
 *
 * A step is a function of this context that registers its resources and fills
 * in the slots and outputs it owns. Steps run in the order of `STEPS`
 * (steps/index.ts); a step that needs an earlier one's slot takes it with
 * `need`, which names both when the order is wrong.
 */
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ResolvedArgs } from "../args";
import type { RegistryOutputs } from "../outputs";
import { annotationsOrNone, commonLabels } from "../labels";
import type { RegistryPlan } from "../plan";
import type { DeliveryPlan } from "../../nodes/delivery";

export interface BuildContext {
  /** The component's resource name: prefix of every child's Pulumi name. */
  readonly name: string;
  /**
   * The `app.kubernetes.io/instance` label and the stem of names the component
   * chooses itself: the resource name plus a hash of project and stack, so
   * that two instances (e.g. two stacks) in one namespace never share a
   * selector or a name. See `instanceName` in labels.ts.
   */
  readonly instance: string;
  readonly args: ResolvedArgs;
  readonly plan: RegistryPlan;
  /** Options every child is registered with (parented to the component). */
  readonly child: pulumi.CustomResourceOptions;
  /** The annotations of every object (the user's, skipAwait), or undefined when there are none. */
  readonly annotations: Record<string, string> | undefined;
  /** The standard labels plus the user's, for an object playing `component` (e.g. "registry", "config"). */
  labels(component: string): Record<string, string>;

  /** The namespace the namespaced children go into (set by the namespace step). */
  namespace?: pulumi.Output<string>;
  /** Resources the pods must wait for (e.g. a created claim). */
  readonly dependsOn: pulumi.Resource[];
  /** The images volume of the pod (set by the storage step). */
  imagesVolume?: k8s.types.input.core.v1.Volume;
  /** Names of the ConfigMaps holding the rendered files, in shard order (set by the config maps step). */
  configMapNames?: pulumi.Output<string>[];
  /** The Service (set by the service step). */
  service?: k8s.core.v1.Service;
  /** The images delivery to the SSH nodes, planned once (see `deliveryOf` in nodes.ts). */
  delivery?: DeliveryPlan;

  /** The component's outputs, filled in by the steps; all must be set when the last step is done. */
  readonly outputs: Partial<RegistryOutputs>;
}

/** One build step. */
export type Step = (ctx: BuildContext) => void;

/** Pulumi's annotation that makes the Kubernetes provider not wait for an object to become ready. */
export const SKIP_AWAIT_ANNOTATION = "pulumi.com/skipAwait";

export function newContext(
  name: string,
  instance: string,
  args: ResolvedArgs,
  plan: RegistryPlan,
  parent: pulumi.Resource,
): BuildContext {
  return {
    name,
    instance,
    args,
    plan,
    child: { parent, ...(args.customTimeouts ? { customTimeouts: { ...args.customTimeouts } } : {}) },
    annotations: annotationsOrNone(
      args.annotations,
      args.skipAwait ? { [SKIP_AWAIT_ANNOTATION]: "true" } : {},
    ),
    labels: (component) => commonLabels(instance, component, args.labels),
    dependsOn: [],
    outputs: {},
  };
}

/** A slot an earlier step fills; throws (a bug in the step order) when it is empty. */
export function need<T>(value: T | undefined, slot: string, step: string): T {
  if (value === undefined)
    throw new Error(`internal: the ${step} step needs ${slot}, set by an earlier step`);
  return value;
}

/** An Output whose value is not known (what a preview shows as `output<string>`). */
export function unknownOutput<T>(): pulumi.Output<T> {
  return pulumi.output(pulumi.unknown) as unknown as pulumi.Output<T>;
}

/**
 * `o`, except that a value the provider did not return (undefined, or a list
 * with a hole) stays unknown: under the mocks of users' unit tests, which echo
 * the inputs back, an auto-generated name is absent, and an output typed as a
 * string should then be unknown, not undefined or "undefined.default.svc".
 */
export function whenReturned<T>(o: pulumi.Input<T | undefined>): pulumi.Output<T> {
  return pulumi
    .output(o)
    .apply((v) =>
      v === undefined || v === null || (Array.isArray(v) && v.some((x) => x === undefined || x === null))
        ? unknownOutput<T>()
        : pulumi.output(v as T),
    ) as unknown as pulumi.Output<T>;
}
