/**
 * The component's mirror part: each listed image becomes a
 * `command.local.Command` that runs the mirror script of script.ts for it
 * (the same text the CLI runs), and the scan waits for them.
 *
 * Order, which must hold: the commands are registered first; on `up` the
 * component awaits their outputs (they resolve when the copies are done),
 * removes the mirrored tags the list no longer names (their commands' deletes
 * would only run at the end of the update, after the config was rendered),
 * and only then scans and renders. In a preview, commands that would run have
 * unknown outputs: the config is then planned from what is on disk (nothing,
 * on a fresh dir) and every output that depends on the scan is unknown.
 *
 * Credentials stay secrets: they reach the script as an auth.json document in
 * its environment (a secret input of the command), never in its text, its
 * triggers or any plain output.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseImageList, parseReferences } from "./list";
import { planMirror, type MirrorItem } from "./plan";
import { pruneTree } from "./prune";
import { AUTH_ENV, mirrorScript, unmirrorScript } from "./script";
import { DEFAULT_RETRIES, type SkopeoOptions } from "./skopeo";

/** A user name and password (or token) for one registry host. */
export interface RegistryCredential {
  /** User name for the upstream registry. */
  username: pulumi.Input<string>;
  /** Password or token; kept a Pulumi secret wherever it goes. */
  password: pulumi.Input<string>;
}

/** The component's mirror arguments (part of StaticContainerRegistryArgs). */
export interface MirrorArgs {
  /**
   * Image references to mirror into `imagesDir` before it is scanned
   * (`alpine:3.19`, `registry.k8s.io/pause:3.10`, `quay.io/org/app@sha256:…`),
   * each as `<imagesDir>/<host>/<path>/<tag>/`. One command per reference:
   * an unchanged list changes nothing; a removed reference's tag is removed.
   * With a list, the component owns the host directories of `imagesDir`.
   */
  images?: string[];
  /** A file with more references, one per line (`#` comments), read at construction. */
  imagesFile?: string;
  /** Credentials per registry host (e.g. `{"quay.io": {username, password}}`); kept secret. */
  registryCredentials?: pulumi.Input<Record<string, pulumi.Input<RegistryCredential>>>;
  /** A registries.conf for skopeo instead of its default ones (e.g. mirrors or insecure hosts). */
  registriesConf?: string;
}

/** Mirror arguments after validation (internal). */
export interface ResolvedMirror {
  items: MirrorItem[];
  /** The upstream hosts of the list, sorted (wired even before anything is mirrored). */
  hosts: string[];
  skopeo: SkopeoOptions;
  registryCredentials?: MirrorArgs["registryCredentials"];
}

/** Checks the mirror arguments, adding every problem; undefined when there is no list. */
export function checkMirrorArgs(args: MirrorArgs, problems: string[]): ResolvedMirror | undefined {
  if (args.images === undefined && args.imagesFile === undefined) {
    if (args.registryCredentials !== undefined || args.registriesConf !== undefined)
      problems.push("registryCredentials and registriesConf are only used with images or imagesFile");
    return undefined;
  }
  const refs: string[] = [];
  if (args.images !== undefined) {
    if (!Array.isArray(args.images) || args.images.some((r) => typeof r !== "string"))
      problems.push("images must be a list of image references (plain strings)");
    else refs.push(...args.images);
  }
  const parsed = parseReferences(refs);
  const found = parsed.problems.map((p) => `images: ${p}`);
  const references = [...parsed.references];
  if (args.imagesFile !== undefined) {
    try {
      const list = parseImageList(fs.readFileSync(args.imagesFile, "utf8"), args.imagesFile);
      found.push(...list.problems.map((p) => `imagesFile: ${p}`));
      references.push(...list.references);
    } catch (e) {
      found.push(`imagesFile "${args.imagesFile}" cannot be read: ${(e as Error).message}`);
    }
  }
  const plan = planMirror(references);
  found.push(...plan.problems.map((p) => `images: ${p}`));
  if (args.registriesConf !== undefined && !fs.existsSync(args.registriesConf))
    found.push(`registriesConf "${args.registriesConf}" does not exist`);
  problems.push(...found);
  if (found.length) return undefined;
  return {
    items: plan.items,
    hosts: [...new Set(plan.items.map((i) => i.ref.host))].sort(),
    skopeo: {
      retries: DEFAULT_RETRIES,
      registriesConf: args.registriesConf && path.resolve(args.registriesConf),
    },
    registryCredentials: args.registryCredentials,
  };
}

/** The auth.json document skopeo reads, as a secret. */
export function authJson(creds: NonNullable<MirrorArgs["registryCredentials"]>): pulumi.Output<string> {
  return pulumi.secret(
    pulumi.output(creds).apply((byHost) => {
      const auths: Record<string, { auth: string }> = {};
      for (const [host, c] of Object.entries(byHost))
        auths[host] = { auth: Buffer.from(`${c.username}:${c.password}`).toString("base64") };
      return JSON.stringify({ auths });
    }),
  );
}

/** The child resource name of an item's command: readable, and unique by a hash of the reference. */
export function mirrorCommandName(name: string, item: MirrorItem): string {
  const short = createHash("sha256").update(item.canonical).digest("hex").slice(0, 8);
  return `${name}-mirror-${item.tagPath.replace(/[^A-Za-z0-9.-]+/g, "-")}-${short}`;
}

/**
 * The arguments of an item's command. `create` brings the tag up to date (and
 * runs again only when its text changes: an unchanged list is a no-op);
 * `delete` removes the tag. The triggers name what the tag is, so that a
 * different reference for it replaces the command (delete before create).
 */
export function mirrorCommandArgs(
  item: MirrorItem,
  root: string,
  skopeo: SkopeoOptions,
  auth?: pulumi.Output<string>,
): command.local.CommandArgs {
  const args: command.local.CommandArgs = {
    create: mirrorScript(item, root, skopeo),
    delete: unmirrorScript(item, root),
    triggers: [item.canonical, path.join(root, item.tagPath)],
    interpreter: ["/bin/sh", "-c"],
  };
  if (auth) args.environment = { [AUTH_ENV]: auth };
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
  return m.items.map(
    (item) =>
      new command.local.Command(
        mirrorCommandName(name, item),
        mirrorCommandArgs(item, root, m.skopeo, auth),
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

/** On `up`, after the commands: removes the mirrored tags no longer listed (see the header). */
export function pruneUnlisted(imagesDir: string, m: ResolvedMirror): string[] {
  if (pulumi.runtime.isDryRun() || !fs.existsSync(imagesDir)) return [];
  return pruneTree(path.resolve(imagesDir), new Set(m.items.map((i) => i.tagPath)));
}

/** An Output that is unknown while the commands are still to run (a preview), else `value`. */
export function afterMirror<T>(commands: command.local.Command[], value: T): pulumi.Output<T> {
  return pulumi.all(commands.map((c) => c.stdout)).apply(() => value);
}
