/**
 * The runtime wiring applied on the SSH `nodes`: one `hosts.toml` per
 * upstream host (k3s/RKE2: their mirrors merged into `registries.yaml`), and
 * with `tls.caCertificate` the CA they point at, written by a Command per node
 * whose delete puts every file back as it was. It runs once the node endpoint
 * is known (after the Service) and depends on nothing else, so one unreachable
 * node holds up no other; the pods do not wait for it (containerd reads
 * hosts.toml at each pull).
 *
 * With static pods, each node also gets the wiring watcher
 * (../staticWiringPod.ts), which keeps the other nodes' registries in its
 * hosts.toml only while they answer. It is placed after the node's wiring and
 * the registry image, and so deleted before the wiring is put back.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { Workload } from "../args";
import { wiringFiles } from "../../nodes/keepWired";
import { containerdHostsTomls, registriesYamlAll } from "../../nodes/wiring";
import { unwireScript, wireScript } from "../../nodes/scripts";
import { placeWatcherScript, removeWatcherScript, staticWiringPod } from "../staticWiringPod";
import type { BuildContext } from "./context";
import { upstreamWiring, type NodeWiring } from "./upstreams";

export function nodeWiringStep(ctx: BuildContext): void {
  const a = ctx.args;
  if (a.nodes.length === 0) return;
  const upstream = upstreamWiring(ctx, "node wiring");
  const caFile = a.tls?.caFile;
  const wiring = pulumi.all([upstream, pulumi.output(a.tls?.caCertificate)]).apply(([o, pem]) => ({
    hostsTomls: containerdHostsTomls(o),
    registriesYaml: registriesYamlAll(o),
    ...(pem !== undefined && caFile !== undefined ? { ca: { file: caFile, pem } } : {}),
  }));
  const watcher = a.workload === Workload.StaticPod ? staticWatcher(ctx, upstream) : undefined;
  for (const node of a.nodes) {
    const wire = new command.remote.Command(
      `${ctx.name}-${node.name}-wire`,
      {
        connection: node.connection,
        create: wiring.apply((w) => wireScript({ node: node.name, ...w })),
        delete: wiring.apply((w) =>
          unwireScript({ node: node.name, ...w, ca: w.ca && { file: w.ca.file, pem: "" } }),
        ),
      },
      ctx.child,
    );
    if (watcher === undefined) continue;
    new command.remote.Command(
      `${ctx.name}-${node.name}-keep-wired`,
      {
        connection: node.connection,
        create: watcher.apply((sp) => placeWatcherScript(node.name, sp)),
        delete: watcher.apply((sp) => removeWatcherScript(node.name, sp)),
      },
      // After the node's wiring (which it keeps) and the registry image (which it runs).
      { ...ctx.child, dependsOn: [wire, ...ctx.dependsOn] },
    );
  }
}

/** The static pods' wiring watcher, the same for every node. */
function staticWatcher(ctx: BuildContext, upstream: pulumi.Output<NodeWiring>) {
  const a = ctx.args;
  return pulumi
    .all([upstream, a.image, a.imagePullPolicy, a.namespace])
    .apply(([o, image, imagePullPolicy, namespace]) =>
      staticWiringPod({
        name: ctx.name,
        image,
        imagePullPolicy,
        files: wiringFiles(containerdHostsTomls(o), { probes: o.probes }),
        manifestsDir: a.staticPodManifestsDir,
        namespace,
        labels: a.labels,
      }),
    );
}
