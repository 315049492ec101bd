/**
 * With `networkPolicy`: the NetworkPolicy around the registry pods (see
 * ../networkPolicy.ts for what it lets in, and why nothing out).
 */
import * as k8s from "@pulumi/kubernetes";
import { networkPolicySpec } from "../networkPolicy";
import { need, type BuildContext } from "./context";

export function networkPolicyStep(ctx: BuildContext): void {
  const { name, args: a } = ctx;
  if (!a.networkPolicy) return;
  new k8s.networking.v1.NetworkPolicy(
    name,
    {
      metadata: {
        namespace: need(ctx.namespace, "the namespace", "network policy"),
        labels: ctx.labels("registry"),
        annotations: ctx.annotations,
      },
      spec: networkPolicySpec(ctx.instance, a.networkPolicy, a.port, a.metricsPort),
    },
    ctx.child,
  );
}
