/**
 * Where the registry is reached: in the cluster by the Service's DNS name, and
 * from the nodes' container runtimes by `nodeEndpoint` (see that argument for
 * the rules), plus the node port of NodePort/LoadBalancer services.
 */
import * as pulumi from "@pulumi/pulumi";
import { formatHostPort } from "../../hostPort";
import { Workload } from "../workload";
import { need, type BuildContext } from "./context";

export function endpointsStep(ctx: BuildContext): void {
  const a = ctx.args;
  const service = need(ctx.service, "the Service", "endpoints");
  ctx.outputs.endpoint = pulumi.interpolate`${service.metadata.name}.${service.metadata.namespace}.svc.${a.clusterDomain}:${a.port}`;
  const nodePort: pulumi.Output<number | undefined> =
    a.serviceType === "NodePort" || a.serviceType === "LoadBalancer"
      ? service.spec.ports.apply((ports) => ports[0]?.nodePort ?? a.nodePort)
      : pulumi.output(undefined);
  ctx.outputs.nodePort = nodePort;

  let nodeEndpoint: pulumi.Output<string>;
  if (a.nodeEndpoint !== undefined) nodeEndpoint = pulumi.output(a.nodeEndpoint);
  // On the host network, or a DaemonSet's hostPort: each node reaches its own pod.
  else if (a.hostNetwork || a.workload === Workload.DaemonSet)
    nodeEndpoint = pulumi.output(formatHostPort("127.0.0.1", a.port));
  // kube-proxy answers node ports on the node's loopback too (iptables and ipvs modes).
  else if (a.serviceType === "NodePort")
    nodeEndpoint = nodePort.apply((np) => formatHostPort("127.0.0.1", np ?? a.port));
  else
    nodeEndpoint = pulumi.all([service.spec.clusterIP, service.status]).apply(([clusterIP, status]) => {
      const ingress = a.serviceType === "LoadBalancer" ? status?.loadBalancer?.ingress?.[0] : undefined;
      return formatHostPort(ingress?.ip || ingress?.hostname || clusterIP, a.port);
    });
  ctx.outputs.nodeEndpoint = nodeEndpoint;
}
