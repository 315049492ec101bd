/**
 * The plan when the component also mirrors `images`: register the mirror
 * commands, wait for them, drop the tags no longer listed, then scan and
 * render (see src/mirror/component.ts for why in this order). In a preview
 * with commands still to run, the config is planned from what is on disk
 * (an empty tree on a fresh dir) and marked pending: the ConfigMaps' data and
 * every output that depends on the scan are unknown until `up`.
 */
import * as fs from "node:fs";
import type * as pulumi from "@pulumi/pulumi";
import type { Inventory } from "../inventory/model";
import { afterMirror, mirrorFinished, pruneUnlisted, registerMirrorCommands } from "../mirror/component";
import type { ResolvedArgs } from "./args";
import type { RegistryOutputs } from "./outputs";
import { ImagesTreeError, planFromInventory, planRegistry, type RegistryPlan } from "./plan";

export interface MirroredPlan {
  plan: RegistryPlan;
  /** Set when the plan is a stand-in for what the mirror commands will produce (a preview). */
  pending?: pulumi.Output<unknown>;
}

export async function planMirrored(
  name: string,
  a: ResolvedArgs,
  parent: pulumi.Resource,
): Promise<MirroredPlan> {
  if (!a.mirror) return { plan: await planRegistry(name, a) };
  const commands = registerMirrorCommands(name, a.mirror, a.imagesDir, parent);
  if (await mirrorFinished(commands)) {
    pruneUnlisted(a.imagesDir, a.mirror);
    return { plan: await planRegistry(name, a) };
  }
  const pending = afterMirror(commands, undefined);
  const empty: Inventory = { root: a.imagesDir, repositories: [], manifests: {}, blobs: {}, problems: [] };
  let plan: RegistryPlan = { inventory: empty, ...planFromInventory(empty, a) };
  if (fs.existsSync(a.imagesDir)) {
    try {
      plan = await planRegistry(name, a);
    } catch (e) {
      // Half-mirrored or empty: what `up` will produce is unknown anyway.
      if (!(e instanceof ImagesTreeError)) throw e;
    }
  }
  // Rendered config is not known before the commands ran: unknown in the preview.
  const unknown = (v: string) => pending.apply(() => v) as unknown as string;
  plan = { ...plan, shards: plan.shards.map((s) => ({ ...s, files: mapValues(s.files, unknown) })) };
  return { plan, pending };
}

/** Makes the outputs that depend on the scan unknown while the mirror is pending. */
export function markPending(outputs: Partial<RegistryOutputs>, pending: pulumi.Output<unknown>): void {
  for (const key of ["repositories", "summary", "totalBytes", "contentHash", "configMapNames"] as const) {
    const value = outputs[key];
    if (value !== undefined) (outputs as Record<string, unknown>)[key] = pending.apply(() => value);
  }
}

function mapValues<T, U>(o: Record<string, T>, f: (v: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
}
