/**
 * The pods: the Deployment (drift guard init container + nginx) and, with
 * more than one replica, its PodDisruptionBudget. The specs come from the
 * pure builders in ../workload.ts.
 */
import * as k8s from "@pulumi/kubernetes";
import { deploymentSpec, podDisruptionBudgetSpec } from "../workload";
import { need, type BuildContext } from "./context";

export function workloadStep(ctx: BuildContext): void {
  const { name, args: a, plan } = ctx;
  const namespace = need(ctx.namespace, "the namespace", "workload");
  const metadata = { namespace, labels: ctx.labels("registry"), annotations: ctx.annotations };
  const deployment = new k8s.apps.v1.Deployment(
    name,
    {
      metadata,
      spec: deploymentSpec({
        name,
        args: a,
        configMapNames: need(ctx.configMapNames, "the ConfigMap names", "workload"),
        imagesVolume: need(ctx.imagesVolume, "the images volume", "workload"),
        contentHash: plan.contentHash,
        nginxMain: plan.nginxMain,
        driftGuardMain: plan.driftGuardMain,
      }),
    },
    { ...ctx.child, dependsOn: ctx.dependsOn },
  );
  ctx.outputs.deploymentName = deployment.metadata.name;

  if (a.replicas > 1) {
    new k8s.policy.v1.PodDisruptionBudget(name, { metadata, spec: podDisruptionBudgetSpec(name) }, ctx.child);
  }
}
