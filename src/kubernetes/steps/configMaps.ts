/**
 * The rendered files, one ConfigMap per shard. Auto-named and immutable: a
 * change creates new ConfigMaps, the pods then point at them (rolling), and
 * the old ones go away after the rollout.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { need, whenReturned, type BuildContext } from "./context";

export function configMapsStep(ctx: BuildContext): void {
  const namespace = need(ctx.namespace, "the namespace", "config maps");
  const configMaps = ctx.plan.shards.map(
    (shard) =>
      new k8s.core.v1.ConfigMap(
        `${ctx.name}-config-${shard.index}`,
        {
          metadata: { namespace, labels: ctx.labels("config"), annotations: ctx.annotations },
          immutable: true,
          data: shard.files,
        },
        ctx.child,
      ),
  );
  ctx.configMapNames = configMaps.map((cm) => cm.metadata.name);
  ctx.outputs.configMapNames = whenReturned(pulumi.all(ctx.configMapNames));
}
