/**
 * With workload `StaticPod`: the registry as a kubelet static pod on each SSH
 * node, placed by a Command per node (../staticPod.ts builds the files and
 * the scripts) once the images and the registry image are on the nodes; it
 * mounts the images set it was made for. No
 * Kubernetes object: there is no cluster yet. The node endpoint is the
 * node's own loopback; the in-cluster endpoint is the same (there is no
 * Service).
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { formatHostPort } from "../../hostPort";
import { drainingStdin, ROOT_SH_FROM_STDIN } from "../../nodes/nodeShell";
import { placeStaticPodScript, removeStaticPodScript, staticPod } from "../staticPod";
import { need, type BuildContext } from "./context";
import { imagesPathOnNode } from "./nodes";

export function staticPodStep(ctx: BuildContext): void {
  const { name, args: a, plan } = ctx;
  need(a.hostPath, "hostPath storage", "static pod");
  const pod = pulumi
    .all([imagesPathOnNode(ctx), a.image, a.namespace, a.resources])
    .apply(([imagesPath, image, namespace, resources]) =>
      staticPod({
        name,
        args: { ...a, image, resources },
        plan,
        imagesPath,
        namespace,
        manifestsDir: a.staticPodManifestsDir,
      }),
    );
  for (const node of a.nodes) {
    new command.remote.Command(
      `${name}-${node.name}-static-pod`,
      {
        connection: node.connection,
        // The files travel on stdin: a command text may not exceed 128 KiB on the node.
        create: ROOT_SH_FROM_STDIN,
        stdin: pod.apply((sp) => placeStaticPodScript(node.name, sp)),
        delete: pod.apply((sp) => drainingStdin(removeStaticPodScript(node.name, sp))),
      },
      // After the images and the registry's image are on the nodes.
      { ...ctx.child, dependsOn: ctx.dependsOn },
    );
  }
  const nodeEndpoint = pulumi.output(a.nodeEndpoint ?? formatHostPort("127.0.0.1", a.port));
  Object.assign(ctx.outputs, {
    workload: a.workload,
    workloadName: name,
    deploymentName: name,
    namespace: pulumi.output(a.namespace),
    serviceName: "",
    configMapNames: [],
    endpoint: nodeEndpoint,
    nodeEndpoint,
    nodePort: undefined,
  });
}
