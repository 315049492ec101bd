/**
 * The Service in front of the pods. Auto-named (resource name plus a random
 * suffix) unless `serviceName` is given, so that two instances never collide
 * in one namespace; the `endpoint` output carries the actual name.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { annotationsOrNone } from "../labels";
import { prometheusAnnotations } from "../metrics";
import { serviceSpec } from "../workload";
import { need, whenReturned, type BuildContext } from "./context";

export function serviceStep(ctx: BuildContext): void {
  const { name, args: a } = ctx;
  const service = new k8s.core.v1.Service(
    name,
    {
      metadata: {
        ...(a.serviceName !== undefined ? { name: a.serviceName } : {}),
        namespace: need(ctx.namespace, "the namespace", "service"),
        labels: ctx.labels("registry"),
        annotations:
          a.serviceAnnotations === undefined
            ? a.metricsPort === undefined
              ? ctx.annotations
              : annotationsOrNone(ctx.annotations ?? {}, prometheusAnnotations(a.metricsPort))
            : pulumi
                .output(a.serviceAnnotations)
                .apply((own) =>
                  annotationsOrNone(ctx.annotations ?? {}, prometheusAnnotations(a.metricsPort), own),
                ),
      },
      spec: serviceSpec(ctx.instance, a),
    },
    ctx.child,
  );
  ctx.service = service;
  ctx.outputs.namespace = whenReturned(service.metadata.namespace);
  ctx.outputs.serviceName = whenReturned(service.metadata.name);
}
