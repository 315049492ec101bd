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
import type * as pulumi from "@pulumi/pulumi";
import type { ResolvedArgs } from "../args";
import type { RegistryOutputs } from "../component";
import { annotationsOrNone, commonLabels } from "../labels";
import type { RegistryPlan } from "../plan";

export interface BuildContext {
  /** The component's resource name: prefix of every child's name, the `app.kubernetes.io/instance` label. */
  readonly name: string;
  readonly args: ResolvedArgs;
  readonly plan: RegistryPlan;
  /** Options every child is registered with (parented to the component). */
  readonly child: pulumi.CustomResourceOptions;
  /** The user's annotations for every object, or undefined when there are none. */
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

  /** The component's outputs, filled in by the steps; all must be set when the last step is done. */
  readonly outputs: Partial<RegistryOutputs>;
}

/** One build step. */
export type Step = (ctx: BuildContext) => void;

export function newContext(
  name: string,
  args: ResolvedArgs,
  plan: RegistryPlan,
  parent: pulumi.Resource,
): BuildContext {
  return {
    name,
    args,
    plan,
    child: { parent },
    annotations: annotationsOrNone(args.annotations),
    labels: (component) => commonLabels(name, component, args.labels),
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
