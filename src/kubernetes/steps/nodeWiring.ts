/**
 * The runtime wiring applied on the SSH `nodes`: one `hosts.toml` per
 * upstream host (k3s/RKE2: their mirrors merged into `registries.yaml`),
 * written by a Command per node whose delete puts every file back as it was. It runs once the node endpoint is known (after the Service)
 * and depends on nothing else, so one unreachable node holds up no other;
 * the pods do not wait for it (containerd reads hosts.toml at each pull and
 * falls back to the upstream while the registry is not up).
 */
import * as command from "@pulumi/command";
import { containerdHostsTomls, registriesYamlAll } from "../../nodes/wiring";
import { unwireScript, wireScript } from "../../nodes/scripts";
import type { BuildContext } from "./context";
import { upstreamWiring } from "./upstreams";

export function nodeWiringStep(ctx: BuildContext): void {
  const a = ctx.args;
  if (a.nodes.length === 0) return;
  const wiring = upstreamWiring(ctx, "node wiring").apply((o) => ({
    hostsTomls: containerdHostsTomls(o),
    registriesYaml: registriesYamlAll(o),
  }));
  for (const node of a.nodes) {
    new command.remote.Command(
      `${ctx.name}-${node.name}-wire`,
      {
        connection: node.connection,
        create: wiring.apply((w) => wireScript({ node: node.name, ...w })),
        delete: wiring.apply((w) => unwireScript({ node: node.name, ...w })),
      },
      ctx.child,
    );
  }
}
