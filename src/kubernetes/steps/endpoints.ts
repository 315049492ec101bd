/**
 * Where the registry is reached: in the cluster by the Service's DNS name, and
 * from the nodes' container runtimes by `nodeEndpoint` (see that argument for
 * the rules), plus the node port of NodePort/LoadBalancer services.
 *
 * What the cluster allocates (cluster IP, node port, load balancer address)
 * is read back from the Service. Where it is not there — a preview, or the
 * mocks of a user's unit tests that echo the inputs back — the node endpoint
 * stays unknown rather than being guessed: a wrong address written into
 * hosts.toml or the KEP-1755 ConfigMap would be worse than none.
 */
import * as pulumi from "@pulumi/pulumi";
import { formatHostPort } from "../../hostPort";
import { ServiceType, Workload } from "../args";
import { need, unknownOutput, whenReturned, type BuildContext } from "./context";

export function endpointsStep(ctx: BuildContext): void {
  const a = ctx.args;
  const service = need(ctx.service, "the Service", "endpoints");
  const name = whenReturned(service.metadata.name);
  const namespace = whenReturned(service.metadata.namespace);
  ctx.outputs.endpoint = pulumi.interpolate`${name}.${namespace}.svc.${a.clusterDomain}:${a.port}`;
  const withNodePort = a.serviceType === ServiceType.NodePort || a.serviceType === ServiceType.LoadBalancer;
  const nodePort: pulumi.Output<number | undefined> = withNodePort
    ? pulumi.all([service.spec.ports, a.nodePort]).apply(([ports, fixed]) => ports?.[0]?.nodePort ?? fixed)
    : pulumi.output(undefined);
  ctx.outputs.nodePort = nodePort;

  let nodeEndpoint: pulumi.Output<string>;
  if (a.nodeEndpoint !== undefined) nodeEndpoint = pulumi.output(a.nodeEndpoint);
  // On the host network, or a DaemonSet's hostPort: each node reaches its own pod.
  else if (a.hostNetwork || a.workload === Workload.DaemonSet)
    nodeEndpoint = pulumi.output(formatHostPort("127.0.0.1", a.port));
  // kube-proxy answers node ports on the node's loopback too (iptables and ipvs modes).
  else if (a.serviceType === ServiceType.NodePort)
    nodeEndpoint = nodePort.apply((np) =>
      np === undefined ? unknownOutput<string>() : pulumi.output(formatHostPort("127.0.0.1", np)),
    );
  else
    nodeEndpoint = pulumi.all([service.spec, service.status]).apply(([spec, status]) => {
      const ingress =
        a.serviceType === ServiceType.LoadBalancer ? status?.loadBalancer?.ingress?.[0] : undefined;
      const host = ingress?.ip || ingress?.hostname || spec?.clusterIP;
      return host ? pulumi.output(formatHostPort(host, a.port)) : unknownOutput<string>();
    });
  ctx.outputs.nodeEndpoint = nodeEndpoint;
}
