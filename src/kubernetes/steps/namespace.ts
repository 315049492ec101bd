/**
 * The namespace: created (labelled with the strictest Pod Security level the
 * mode allows, warning about anything beyond "restricted"), or an existing one
 * taken by name.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { podSecurityLevel } from "../args";
import type { BuildContext } from "./context";

export function namespaceStep(ctx: BuildContext): void {
  const a = ctx.args;
  if (!a.createNamespace) {
    ctx.namespace = pulumi.output(a.namespace);
    return;
  }
  const ns = new k8s.core.v1.Namespace(
    `${ctx.name}-ns`,
    {
      metadata: {
        name: a.namespace,
        labels: {
          ...ctx.labels("namespace"),
          "pod-security.kubernetes.io/enforce": podSecurityLevel(a),
          "pod-security.kubernetes.io/enforce-version": "latest",
          // Even where the mode needs "privileged", warn about anything beyond "restricted".
          "pod-security.kubernetes.io/warn": "restricted",
          "pod-security.kubernetes.io/warn-version": "latest",
        },
        annotations: ctx.annotations,
      },
    },
    ctx.child,
  );
  ctx.namespace = ns.metadata.name;
}
