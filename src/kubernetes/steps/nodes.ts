/**
 * What the registry's pods need on the SSH `nodes` before they start, one set
 * of @pulumi/command resources per node:
 *
 *   prepare (Command)        make the node's dirs; print the objects it holds
 *   images (CopyToRemote)    exactly the files it lacks (hostPath storage)
 *   deliver (Command)        adopt them, switch hostPath.path atomically;
 *                            its delete removes the delivery
 *   registry-image (CopyToRemote) + import (Command)   the registry's own image
 *
 * The workload depends on `deliver` and `import`. The script texts come from
 * src/nodes/scripts.ts; the staging of the copy from src/nodes/delivery.ts.
 * `deliver` has no `triggers`: a replacement would run the old delete after
 * the new create; new content changes its script text, which runs it again.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import {
  emptyDelivery,
  parseHave,
  planDelivery,
  stageMissing,
  type DeliveryPlan,
} from "../../nodes/delivery";
import {
  deliverScript,
  importScript,
  prepareScript,
  registryImagePath,
  incomingDir,
  setDir,
  undeliverScript,
  unimportScript,
  unprepareScript,
} from "../../nodes/scripts";
import type { BuildContext } from "./context";

/** Where the copies are staged on the machine running Pulumi (hardlinks; replaced at each run). */
export function stagingRoot(componentName: string): string {
  return path.join(os.tmpdir(), "static-container-registry-stage", componentName);
}

/**
 * The delivery of the images dir to the SSH nodes (hostPath storage with
 * `nodes`), planned once per build; undefined when nothing is delivered.
 */
export function deliveryOf(ctx: BuildContext): DeliveryPlan | undefined {
  const a = ctx.args;
  if (a.nodes.length === 0 || a.storage !== "hostPath") return undefined;
  // In a preview whose mirror commands have not run, the dir may not exist yet: plan an empty delivery.
  ctx.delivery ??= fs.existsSync(a.imagesDir) ? planDelivery(a.imagesDir) : emptyDelivery(a.imagesDir);
  return ctx.delivery;
}

/**
 * Where the pods find the images on a node: with a delivery, the set it
 * delivers (`<hostPath.path>/sets/<set id>`: a pod keeps the set it was made
 * for until it is replaced); else `hostPath.path` itself, filled by the user.
 */
export function imagesPathOnNode(ctx: BuildContext): pulumi.Input<string> {
  const hostPath = ctx.args.hostPath;
  if (hostPath === undefined) throw new Error("internal: the images path on a node needs hostPath storage");
  const delivery = deliveryOf(ctx);
  return delivery === undefined
    ? hostPath.path
    : pulumi.output(hostPath.path).apply((p) => setDir(p, delivery.setId));
}

export function nodesStep(ctx: BuildContext): void {
  const a = ctx.args;
  if (a.nodes.length === 0) return;
  const hostPath = a.storage === "hostPath" ? a.hostPath?.path : undefined;
  const delivery = deliveryOf(ctx);
  const image = a.registryImage;

  for (const node of a.nodes) {
    const base = `${ctx.name}-${node.name}`;
    const opts = { ...ctx.child };
    const connection = node.connection;
    const prepare = new command.remote.Command(
      `${base}-prepare`,
      {
        connection,
        create: pulumi.output(hostPath).apply((hp) =>
          prepareScript({
            node: node.name,
            hostPath: hp,
            setId: delivery?.setId,
            stateDir: image !== undefined,
          }),
        ),
        delete: unprepareScript({ node: node.name }),
        logging: "stderr",
      },
      opts,
    );

    if (hostPath !== undefined && delivery !== undefined) {
      const copy = new command.remote.CopyToRemote(
        `${base}-images`,
        {
          connection,
          source: prepare.stdout.apply(
            (stdout) =>
              new pulumi.asset.FileArchive(
                stageMissing(delivery, parseHave(stdout ?? ""), stagingRoot(ctx.name), node.name).dir,
              ),
          ),
          remotePath: pulumi.output(hostPath).apply(incomingDir),
          triggers: [delivery.setId],
        },
        { ...opts, dependsOn: [prepare] },
      );
      const deliver = new command.remote.Command(
        `${base}-deliver`,
        {
          connection,
          create: pulumi
            .output(hostPath)
            .apply((hp) => deliverScript({ node: node.name, hostPath: hp, setId: delivery.setId })),
          delete: pulumi.output(hostPath).apply((hp) => undeliverScript({ node: node.name, hostPath: hp })),
        },
        { ...opts, dependsOn: [copy] },
      );
      ctx.dependsOn.push(deliver);
    }

    if (image !== undefined) {
      const remote = registryImagePath(image.sha256);
      const copy = new command.remote.CopyToRemote(
        `${base}-registry-image`,
        {
          connection,
          source: new pulumi.asset.FileAsset(image.archive),
          remotePath: remote,
          triggers: [image.sha256],
        },
        { ...opts, dependsOn: [prepare] },
      );
      const spec = { node: node.name, archive: remote, image: image.name };
      const imported = new command.remote.Command(
        `${base}-import`,
        { connection, create: importScript(spec), delete: unimportScript(spec) },
        { ...opts, dependsOn: [copy] },
      );
      ctx.dependsOn.push(imported);
    }
  }
}
