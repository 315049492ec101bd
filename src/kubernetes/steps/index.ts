/**
 * The component's build, step by step, in order. To add a feature: write a
 * `(ctx: BuildContext) => void` in its own module here (registering its
 * resources with `ctx.child`, reading earlier slots with `need`, setting its
 * outputs on `ctx.outputs`) and add it to this list.
 */
import { configMapsStep } from "./configMaps";
import type { Step } from "./context";
import { endpointsStep } from "./endpoints";
import { namespaceStep } from "./namespace";
import { networkPolicyStep } from "./networkPolicy";
import { nodesStep } from "./nodes";
import { nodeWiringStep } from "./nodeWiring";
import { servedStep } from "./served";
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

export { newContext, need, type BuildContext, type Step } from "./context";
