/**
 * The step before the plan, when the component mirrors `images`: each listed
 * image becomes a `command.local.Command` that runs src/mirror's script for it
 * (the same text the CLI runs), and the scan waits for them.
 *
 * Order, which must hold: the commands are registered first; on `up` the
 * component awaits their outputs (they resolve when the copies are done),
 * removes the mirrored tags the list no longer names (their commands' deletes
 * would only run at the end of the update, after the config was rendered),
 * and only then scans and renders. In a preview with commands still to run,
 * the config is planned from what is on disk (an empty tree on a fresh dir)
 * and marked pending: the ConfigMaps' data and every output that depends on
 * the scan are unknown until `up`.
 *
 * Credentials stay secrets: they reach the script as an auth.json document in
 * its environment (a secret input of the command), never in its text, its
 * triggers or any plain output.
 *
 * Every script carries what refers to its image (signatures, attestations,
 * SBOMs, referrers) with src/provenance's step, as the CLI does. With
 * `verifyKeys` the step also requires a signature by one of the keys (the
 * script says `--require-signature`; the keys travel in its environment): an
 * image that does not verify never lands, its command fails naming the
 * reference, and so does the `up`.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Inventory } from "../../inventory/model";
import type { MirrorItem } from "../../mirror/plan";
import { pruneTree } from "../../mirror/prune";
import { provenanceArgv, VERIFY_KEYS_ENV, verifyKeysEnv } from "../../provenance/command";
import { parsePublicKeys } from "../../provenance/keys";
import { subjectOfTag } from "../../provenance/tags";
import { AUTH_ENV, authJsonDocument, mirrorScript, unmirrorScript } from "../../mirror/script";
import type { SkopeoOptions } from "../../mirror/skopeo";
import type { MirrorArgs, ResolvedArgs, ResolvedMirror } from "../args";
import type { RegistryOutputs } from "../outputs";
import { ImagesTreeError, planFromInventory, planRegistry, type RegistryPlan } from "../plan";

export interface MirroredPlan {
  plan: RegistryPlan;
  /** Set when the plan is a stand-in for what the mirror commands will produce (a preview). */
  pending?: pulumi.Output<unknown>;
}

/** The plan, after the mirror commands when there is an image list (see the header). */
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

/** The auth.json document skopeo reads, as a secret. */
export function authJson(creds: NonNullable<MirrorArgs["registryCredentials"]>): pulumi.Output<string> {
  return pulumi.secret(pulumi.output(creds).apply(authJsonDocument));
}

/** The child resource name of an item's command: readable, and unique by a hash of the reference. */
export function mirrorCommandName(name: string, item: MirrorItem): string {
  const short = createHash("sha256").update(item.canonical).digest("hex").slice(0, 8);
  return `${name}-mirror-${item.tagPath.replace(/[^A-Za-z0-9.-]+/g, "-")}-${short}`;
}

/**
 * The keys as the script's environment carries them; a key that is not a
 * usable public key fails, naming it (keys known at construction were
 * checked with the other arguments: this is for those given as Outputs).
 */
export function verifyKeysText(texts: readonly string[]): string {
  const named = texts.map((text, i) => ({ name: `verifyKeys[${i}]`, text }));
  const { problems } = parsePublicKeys(named);
  if (!texts.length) problems.push("verifyKeys is empty: give at least one public key, or leave it out");
  if (problems.length) throw new Error(problems.join("\n"));
  return verifyKeysEnv(named);
}

/**
 * The arguments of an item's command. `create` brings the tag up to date (and
 * runs again only when its text changes: an unchanged list is a no-op);
 * `delete` removes the tag. The triggers name what the tag is, so that a
 * different reference for it replaces the command (delete before create).
 * `env` holds the credentials (a secret) and the keys, when there are any.
 */
export function mirrorCommandArgs(
  item: MirrorItem,
  root: string,
  skopeo: SkopeoOptions,
  env: { auth?: pulumi.Output<string>; keys?: pulumi.Output<string> } = {},
): command.local.CommandArgs {
  const step = provenanceArgv(item, root, skopeo, env.keys !== undefined);
  const args: command.local.CommandArgs = {
    create: mirrorScript(item, root, skopeo, step),
    delete: unmirrorScript(item, root),
    triggers: [item.canonical, path.join(root, item.tagPath)],
    interpreter: ["/bin/sh", "-c"],
  };
  const environment: Record<string, pulumi.Output<string>> = {};
  if (env.auth) environment[AUTH_ENV] = env.auth;
  if (env.keys) environment[VERIFY_KEYS_ENV] = env.keys;
  if (Object.keys(environment).length) args.environment = environment;
  return args;
}

/** Registers one command per listed image (children of `parent`). */
export function registerMirrorCommands(
  name: string,
  m: ResolvedMirror,
  imagesDir: string,
  parent: pulumi.Resource,
): command.local.Command[] {
  const root = path.resolve(imagesDir);
  const auth = m.registryCredentials !== undefined ? authJson(m.registryCredentials) : undefined;
  const keys = m.verifyKeys !== undefined ? pulumi.output(m.verifyKeys).apply(verifyKeysText) : undefined;
  return m.items.map(
    (item) =>
      new command.local.Command(
        mirrorCommandName(name, item),
        mirrorCommandArgs(item, root, m.skopeo, { auth, keys }),
        {
          parent,
          // A replaced command must not delete the tag its successor just wrote.
          deleteBeforeReplace: true,
        },
      ),
  );
}

/**
 * Waits for the commands: true once they have all finished (on `up`, or when
 * a preview finds them unchanged), false when a preview has them still to run.
 */
export async function mirrorFinished(commands: command.local.Command[]): Promise<boolean> {
  if (!commands.length) return true;
  const all = pulumi.all(commands.map((c) => c.stdout));
  // The SDK's Output carries whether its value is known; a preview leaves a
  // command that would run unknown.
  const internal = all as unknown as { isKnown: Promise<boolean>; promise: () => Promise<unknown> };
  if (pulumi.runtime.isDryRun() && !(await internal.isKnown)) return false;
  await internal.promise();
  return true;
}

/**
 * On `up`, after the commands: removes the mirrored tags no longer listed
 * (see the header), keeping what refers to the images still listed.
 */
export function pruneUnlisted(imagesDir: string, m: ResolvedMirror): string[] {
  if (pulumi.runtime.isDryRun() || !fs.existsSync(imagesDir)) return [];
  return pruneTree(path.resolve(imagesDir), new Set(m.items.map((i) => i.tagPath)), subjectOfTag);
}

/** An Output that is unknown while the commands are still to run (a preview), else `value`. */
export function afterMirror<T>(commands: command.local.Command[], value: T): pulumi.Output<T> {
  return pulumi.all(commands.map((c) => c.stdout)).apply(() => value);
}
