/**
 * The Service in front of the pods, named after the component so that the
 * in-cluster endpoint is predictable.
 */
import * as k8s from "@pulumi/kubernetes";
import { annotationsOrNone } from "../labels";
import { serviceSpec } from "../workload";
import { need, type BuildContext } from "./context";

export function serviceStep(ctx: BuildContext): void {
  const { name, args: a } = ctx;
  const service = new k8s.core.v1.Service(
    name,
    {
      metadata: {
        name,
        namespace: need(ctx.namespace, "the namespace", "service"),
        labels: ctx.labels("registry"),
        annotations: annotationsOrNone(a.annotations, a.serviceAnnotations),
      },
      spec: serviceSpec(name, a),
    },
    ctx.child,
  );
  ctx.service = service;
  ctx.outputs.namespace = service.metadata.namespace;
  ctx.outputs.serviceName = service.metadata.name;
}
