/**
 * The pods: a Deployment (with, above one replica, its PodDisruptionBudget)
 * or a DaemonSet, both of drift guard init container + nginx. The specs
 * come from the pure builders in ../workload.ts.
 */
import * as k8s from "@pulumi/kubernetes";
import { Workload } from "../args";
import { daemonSetSpec, deploymentSpec, podDisruptionBudgetSpec, type PodInputs } from "../workload";
import { need, whenReturned, type BuildContext } from "./context";

export function workloadStep(ctx: BuildContext): void {
  const { name, args: a, plan } = ctx;
  const namespace = need(ctx.namespace, "the namespace", "workload");
  const metadata = { namespace, labels: ctx.labels("registry"), annotations: ctx.annotations };
  const pod: PodInputs = {
    name: ctx.instance,
    args: a,
    configMapNames: need(ctx.configMapNames, "the ConfigMap names", "workload"),
    imagesVolume: need(ctx.imagesVolume, "the images volume", "workload"),
    contentHash: plan.contentHash,
    nginxMain: plan.nginxMain,
    driftGuardMain: plan.driftGuardMain,
  };
  const opts = { ...ctx.child, dependsOn: ctx.dependsOn };
  ctx.outputs.workload = a.workload;

  if (a.workload === Workload.DaemonSet) {
    // No PodDisruptionBudget: node drains leave DaemonSet pods alone.
    const daemonSet = new k8s.apps.v1.DaemonSet(name, { metadata, spec: daemonSetSpec(pod) }, opts);
    ctx.outputs.workloadName = whenReturned(daemonSet.metadata.name);
    ctx.outputs.deploymentName = ctx.outputs.workloadName;
    return;
  }

  const deployment = new k8s.apps.v1.Deployment(name, { metadata, spec: deploymentSpec(pod) }, opts);
  ctx.outputs.workloadName = whenReturned(deployment.metadata.name);
  ctx.outputs.deploymentName = ctx.outputs.workloadName;
  if (a.replicas > 1) {
    new k8s.policy.v1.PodDisruptionBudget(
      name,
      { metadata, spec: podDisruptionBudgetSpec(ctx.instance) },
      ctx.child,
    );
  }
}
