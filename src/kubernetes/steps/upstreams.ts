/**
 * What every per-host node wiring is rendered from, in one place: the node
 * endpoint, every upstream host the images dir holds or the image list
 * names (plus `upstreamHost`),
 * the name prefix and the TLS trust. The SSH wiring (nodeWiring.ts) and the
 * in-cluster wiring (wiringDaemonSet.ts) write the same texts from it, the
 * `hostsTomls` output's (wiring.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import type { UpstreamWiringOptions } from "../../nodes/wiring";
import { need, type BuildContext } from "./context";

export function upstreamWiring(ctx: BuildContext, step: string): pulumi.Output<UpstreamWiringOptions> {
  const a = ctx.args;
  const repositories = ctx.plan.inventory.repositories.map((r) => r.name);
  return pulumi.output(need(ctx.outputs.nodeEndpoint, "the node endpoint", step)).apply((endpoint) => ({
    endpoint,
    repositories,
    // The image list's hosts too: wired before the mirror has filled the tree.
    hosts: a.mirror?.hosts ?? [],
    upstreamHost: a.upstreamHost,
    namePrefix: a.namePrefix,
    ...(a.tls ? { tls: { caFile: a.tls.caFile } } : {}),
  }));
}
