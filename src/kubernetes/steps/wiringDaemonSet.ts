/**
 * With `wiringDaemonSet`: the in-cluster node wiring (../wiringDaemonSet.ts),
 * a ConfigMap holding one hosts.toml per upstream host (the SSH wiring's
 * texts, see upstreams.ts) and with `tls.caCertificate` the CA (a public
 * certificate: a ConfigMap is no secret, the stack's state keeps it as the
 * input was), and the DaemonSet that writes them into every node's
 * containerd certs dir and `tls.caFile`. When
 * the nodes reach the registry on their own loopback (host network or a
 * DaemonSet's host port), only the nodes that run a registry pod are wired.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Workload } from "../args";
import { APP_NAME } from "../labels";
import { pinnedScheduling } from "../storage";
import { wiringDaemonSetSpec, wiringFiles, wiringHash } from "../wiringDaemonSet";
import { containerdHostsTomls } from "../../nodes/wiring";
import { need, type BuildContext } from "./context";
import { upstreamWiring } from "./upstreams";

export function wiringDaemonSetStep(ctx: BuildContext): void {
  const { name, args: a } = ctx;
  if (!a.wiringDaemonSet) return;
  const namespace = need(ctx.namespace, "the namespace", "wiring DaemonSet");
  const caPem = a.tls?.caCertificate;
  const files = pulumi
    .all([upstreamWiring(ctx, "wiring DaemonSet"), pulumi.output(caPem)])
    .apply(([o, pem]) =>
      wiringFiles(containerdHostsTomls(o), {
        probes: o.probes,
        ...(pem !== undefined ? { caPem: pem } : {}),
      }),
    );

  // Not the registry's selector labels: its Service and workload must never select these pods.
  const selector = {
    "app.kubernetes.io/name": `${APP_NAME}-wiring`,
    "app.kubernetes.io/instance": ctx.instance,
  };
  const labels = { ...ctx.labels("wiring"), ...selector };
  const configMap = new k8s.core.v1.ConfigMap(
    `${name}-wiring`,
    { metadata: { namespace, labels, annotations: ctx.annotations }, immutable: true, data: files },
    ctx.child,
  );
  const onLoopback = a.nodeEndpoint === undefined && (a.hostNetwork || a.workload === Workload.DaemonSet);
  const scheduling = onLoopback ? pinnedScheduling(a) : {};
  new k8s.apps.v1.DaemonSet(
    `${name}-wiring`,
    {
      metadata: { namespace, labels, annotations: ctx.annotations },
      spec: wiringDaemonSetSpec({
        labels,
        selector,
        annotations: a.annotations,
        configMapName: configMap.metadata.name,
        // A digest tells nothing of a secret CA: the pod template stays readable in diffs.
        contentHash: pulumi.unsecret(files.apply(wiringHash)),
        image: a.image,
        imagePullPolicy: a.imagePullPolicy,
        ...(caPem !== undefined ? { caFile: a.tls!.caFile } : {}),
        imagePullSecrets: a.imagePullSecrets,
        ...scheduling,
        priorityClassName: a.priorityClassName,
      }),
    },
    ctx.child,
  );
}
