/**
 * What the nodes need to pull through the registry: the containerd
 * `hosts.toml` texts (one per upstream host, and the `upstreamHost` one
 * alone for compatibility) and the k3s/RKE2 `registries.yaml` (outputs), and with
 * `localRegistryHosting` the KEP-1755 ConfigMap that tools read.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  containerdHostsToml,
  containerdHostsTomls,
  localRegistryHostingV1,
  registriesYamlAll,
} from "../../nodes/wiring";
import { need, type BuildContext } from "./context";
import { upstreamWiring } from "./upstreams";

export function wiringStep(ctx: BuildContext): void {
  const a = ctx.args;
  const nodeEndpoint = pulumi.output(need(ctx.outputs.nodeEndpoint, "the node endpoint", "wiring"));
  const endpoint = need(ctx.outputs.endpoint, "the endpoint", "wiring");
  // Every upstream host: those the tree is prefixed with, the list's, and upstreamHost for the rest.
  const wiring = upstreamWiring(ctx, "wiring");
  ctx.outputs.upstreamHost = a.upstreamHost;
  // The upstreamHost one alone, as before there were several.
  ctx.outputs.hostsToml = wiring.apply((w) =>
    containerdHostsToml({
      upstreamHost: a.upstreamHost,
      namePrefix: w.namePrefix,
      tls: w.tls,
      endpoint: w.endpoint,
      fallbacks: w.fallbacks,
    }),
  );
  ctx.outputs.hostsTomls = wiring.apply(containerdHostsTomls);
  ctx.outputs.registriesYaml = wiring.apply(registriesYamlAll);

  if (a.localRegistryHosting) {
    new k8s.core.v1.ConfigMap(
      `${ctx.name}-local-registry-hosting`,
      {
        // KEP-1755: one well-known ConfigMap per cluster.
        metadata: {
          name: "local-registry-hosting",
          namespace: "kube-public",
          labels: ctx.labels("discovery"),
        },
        data: {
          "localRegistryHosting.v1": pulumi.all([nodeEndpoint, endpoint]).apply(([ne, ep]) =>
            localRegistryHostingV1({
              host: ne,
              hostFromClusterNetwork: ep,
              hostFromContainerRuntime: ne,
              help: "https://www.npmjs.com/package/static-container-registry (read-only: pull only)",
            }),
          ),
        },
      },
      ctx.child,
    );
  }
}
