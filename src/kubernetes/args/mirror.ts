/**
 * The image list the component mirrors into `imagesDir` before the scan:
 * references given inline or in a file, credentials per registry host (kept
 * secrets), skopeo's registries.conf, and the public keys whose signatures let
 * an image in. Checked here with src/mirror's pure parsers and planner and
 * src/provenance's key parser; the commands that copy are the mirror step's
 * (../steps/mirror.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseImageList, parseReferences } from "../../mirror/list";
import { planMirror, type MirrorItem } from "../../mirror/plan";
import { DEFAULT_RETRIES, type SkopeoOptions } from "../../mirror/skopeo";
import { parsePublicKeys } from "../../provenance/keys";
import { isOutputOrPromise, type ArgTable, type Input } from "./common";

/** A user name and password (or token) for one registry host. */
export interface RegistryCredential {
  /** User name for the upstream registry. */
  username: Input<string>;
  /** Password or token; kept a Pulumi secret wherever it goes. */
  password: Input<string>;
}

/** What to mirror into the images dir before it is scanned. */
export interface MirrorArgs {
  /**
   * Image references to mirror into `imagesDir` first (`alpine:3.19`,
   * `registry.k8s.io/pause:3.10`, `quay.io/org/app@sha256:…`), each to
   * `<imagesDir>/<host>/<path>/<tag>/` by a `command.local.Command` running
   * skopeo; the scan runs after them (so `imagesDir` may start empty). An
   * unchanged list is a no-op; a removed reference's tag is removed. With a
   * list, the component owns the host directories of `imagesDir`.
   */
  images?: string[];
  /** A file of image references, one per line (`#` comments, blank lines), read at construction. */
  imagesFile?: string;
  /** Credentials per registry host for `images`, e.g. `{"quay.io": {username, password}}`. Kept secret. */
  registryCredentials?: Input<Record<string, Input<RegistryCredential>>>;
  /** A registries.conf for skopeo (mirrors, insecure hosts) instead of its default ones. */
  registriesConf?: string;
  /**
   * PEM public keys (cosign.pub: ECDSA, Ed25519 or RSA), as text. When given,
   * an image of `images` lands only if its cosign signature (of the index
   * digest, for a multi-arch image) verifies under one of them and names the
   * image's digest and repository; any other makes its mirror command, and so
   * the `up`, fail naming the reference. Checked offline: no transparency log
   * is needed. Public keys are not secret.
   */
  verifyKeys?: Input<Input<string>[]>;
}

export const MIRROR_ARGS: ArgTable<MirrorArgs> = {
  images: "it decides which mirror commands exist",
  imagesFile: "it is read at construction",
  registryCredentials: "input",
  registriesConf: "it is read at construction",
  verifyKeys: "input",
};

/** Mirror arguments after validation (internal). */
export interface ResolvedMirror {
  items: MirrorItem[];
  /** The upstream hosts of the list, sorted (wired even before anything is mirrored). */
  hosts: string[];
  skopeo: SkopeoOptions;
  registryCredentials?: MirrorArgs["registryCredentials"];
  /** The public keys' PEM texts, when signatures are required (keys known at construction already checked). */
  verifyKeys?: MirrorArgs["verifyKeys"];
}

/** The problems of keys known at construction (one given as an Output is checked when it resolves). */
function checkKeys(keys: MirrorArgs["verifyKeys"], problems: string[]): void {
  if (keys === undefined || isOutputOrPromise(keys)) return;
  if (!Array.isArray(keys)) {
    problems.push("verifyKeys must be a list of PEM public keys");
    return;
  }
  if (keys.length === 0) problems.push("verifyKeys is empty: give at least one public key, or leave it out");
  const known = keys
    .map((text, i) => ({ name: `verifyKeys[${i}]`, text }))
    .filter((k): k is { name: string; text: string } => !isOutputOrPromise(k.text));
  for (const k of known)
    if (typeof k.text !== "string") problems.push(`${k.name} must be a PEM public key (text)`);
  problems.push(...parsePublicKeys(known.filter((k) => typeof k.text === "string")).problems);
}

/** Checks the mirror arguments, adding every problem; undefined when there is no list. */
export function checkMirrorArgs(args: MirrorArgs, problems: string[]): ResolvedMirror | undefined {
  if (args.images === undefined && args.imagesFile === undefined) {
    if (args.registryCredentials !== undefined || args.registriesConf !== undefined)
      problems.push("registryCredentials and registriesConf are only used with images or imagesFile");
    if (args.verifyKeys !== undefined) problems.push("verifyKeys is only used with images or imagesFile");
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
  checkKeys(args.verifyKeys, found);
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
    verifyKeys: args.verifyKeys,
  };
}
