/**
 * What every per-host node wiring is rendered from, in one place: the node
 * endpoint and the fallbacks after it (src/nodes/fallback.ts decides them from
 * the workload: the Service's cluster IP, or the other nodes' addresses for
 * static pods), every upstream host the images dir holds or the image list
 * names (plus `upstreamHost`), the name prefix and the TLS trust. The SSH
 * wiring (nodeWiring.ts), the in-cluster wiring (wiringDaemonSet.ts) and the
 * static pods' watcher (staticPod.ts) write the same texts from it, the
 * `hostsTomls` output's (wiring.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { formatHostPort } from "../../hostPort";
import { fallbackEndpoints, probedEndpoints, type FallbackInput } from "../../nodes/fallback";
import type { UpstreamWiringOptions } from "../../nodes/wiring";
import { need, type BuildContext } from "./context";

export interface NodeWiring extends UpstreamWiringOptions {
  /** The endpoints a node-side watcher health-checks, each with the URL that must answer. */
  probes: { endpoint: string; url: string }[];
}

/** The Service's cluster IP and port, when there is a Service and the provider returned its IP. */
function serviceEndpoint(ctx: BuildContext): pulumi.Output<string | undefined> {
  if (ctx.service === undefined) return pulumi.output(undefined);
  const port = ctx.args.port;
  return ctx.service.spec.apply((spec) => {
    const ip = spec?.clusterIP;
    return ip && ip !== "None" ? formatHostPort(ip, port) : undefined;
  });
}

export function upstreamWiring(ctx: BuildContext, step: string): pulumi.Output<NodeWiring> {
  const a = ctx.args;
  const repositories = ctx.plan.inventory.repositories.map((r) => r.name);
  const peers = pulumi
    .all(a.nodes.map((n) => pulumi.output(n.address)))
    .apply((hosts) => hosts.map((h) => formatHostPort(h, a.port)));
  return pulumi
    .all([
      pulumi.output(need(ctx.outputs.nodeEndpoint, "the node endpoint", step)),
      serviceEndpoint(ctx),
      peers,
    ])
    .apply(([endpoint, service, peerEndpoints]) => {
      const input: FallbackInput = {
        mode: a.workload,
        nodeEndpoint: endpoint,
        ...(service !== undefined ? { service } : {}),
        peers: peerEndpoints,
      };
      const scheme = a.tls ? "https" : "http";
      return {
        endpoint,
        fallbacks: fallbackEndpoints(input),
        probes: probedEndpoints(input).map((e) => ({ endpoint: e, url: `${scheme}://${e}/v2/` })),
        repositories,
        // The image list's hosts too: wired before the mirror has filled the tree.
        hosts: a.mirror?.hosts ?? [],
        upstreamHost: a.upstreamHost,
        namePrefix: a.namePrefix,
        ...(a.tls ? { tls: { caFile: a.tls.caFile } } : {}),
      };
    });
}
