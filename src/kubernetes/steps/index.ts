/**
 * The component's build, step by step, in order. To add a feature: write a
 * `(ctx: BuildContext) => void` in its own module here (registering its
 * resources with `ctx.child`, reading earlier slots with `need`, setting its
 * outputs on `ctx.outputs`) and add it to this list. Before them, and before
 * the plan they share, the mirror step (mirror.ts) fills the images dir.
 */
import { Workload, type ResolvedArgs } from "../args";
import { configMapsStep } from "./configMaps";
import type { Step } from "./context";
import { endpointsStep } from "./endpoints";
import { namespaceStep } from "./namespace";
import { networkPolicyStep } from "./networkPolicy";
import { nodesStep } from "./nodes";
import { nodeWiringStep } from "./nodeWiring";
import { servedStep } from "./served";
import { staticPodStep } from "./staticPod";
import { serviceStep } from "./service";
import { storageStep } from "./storage";
import { wiringStep } from "./wiring";
import { wiringDaemonSetStep } from "./wiringDaemonSet";
import { workloadStep } from "./workload";

export const STEPS: readonly Step[] = [
  servedStep,
  namespaceStep,
  storageStep,
  configMapsStep,
  nodesStep,
  workloadStep,
  serviceStep,
  networkPolicyStep,
  endpointsStep,
  wiringStep,
  wiringDaemonSetStep,
  nodeWiringStep,
];

/**
 * The steps of a static pod (workload `StaticPod`): before the cluster
 * exists, only the SSH node steps, no Kubernetes object.
 */
export const STATIC_POD_STEPS: readonly Step[] = [
  servedStep,
  nodesStep,
  staticPodStep,
  wiringStep,
  nodeWiringStep,
];

/** The steps for these args. */
export function stepsFor(a: ResolvedArgs): readonly Step[] {
  return a.workload === Workload.StaticPod ? STATIC_POD_STEPS : STEPS;
}

export { newContext, need, type BuildContext, type Step } from "./context";
export { markPending, planMirrored } from "./mirror";
