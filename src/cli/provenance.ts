/**
 * `provenance` (internal): the provenance step of one image, as the mirror
 * script runs it (src/provenance/command.ts builds the command line). Prints
 * the lines of src/provenance/report.ts; a refused image or a failed fetch is
 * one line on stderr, starting with the reference (the component's failed
 * command shows only that output), and exit 1, so the script stops before
 * the image lands.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseReference, ReferenceError } from "../mirror/reference";
import { RegistryClient } from "../mirror/registryClient";
import type { SkopeoOptions } from "../mirror/skopeo";
import { carryProvenance, Refusal } from "../provenance/carry";
import { VERIFY_KEYS_ENV } from "../provenance/command";
import { parsePublicKeys, type VerifyKey } from "../provenance/keys";
import { ReferrersApi } from "../provenance/referrersApi";
import { carryLines } from "../provenance/report";
import { UsageError } from "./errors";

export interface ProvenanceOptions {
  /** The reference as listed (canonical), for the failure line. */
  ref: string;
  source: string;
  dest: string;
  digest: string;
  imageDir: string;
  retries: string;
  registriesConf?: string;
  requireSignature?: boolean;
}

/** The keys of the environment (see command.ts); every bad one named. */
function keysFromEnv(): VerifyKey[] {
  const raw = process.env[VERIFY_KEYS_ENV];
  if (!raw) throw new UsageError(`--require-signature needs the keys in ${VERIFY_KEYS_ENV}`, 1);
  let list: unknown;
  try {
    list = JSON.parse(raw);
  } catch {
    list = undefined;
  }
  if (
    !Array.isArray(list) ||
    !list.length ||
    !list.every((k) => typeof k?.name === "string" && typeof k?.text === "string")
  )
    throw new UsageError(`${VERIFY_KEYS_ENV} is not a JSON list of {name, text} keys`, 1);
  const parsed = parsePublicKeys(list as { name: string; text: string }[]);
  if (parsed.problems.length) throw new UsageError(parsed.problems.join("\n"), 1);
  return parsed.keys;
}

export async function runProvenance(opts: ProvenanceOptions): Promise<number> {
  let ref: { host: string; path: string };
  try {
    ref = parseReference(opts.source);
  } catch (e) {
    if (e instanceof ReferenceError) throw new UsageError(`--source ${e.message}`);
    throw e;
  }
  if (!/^sha256:[a-f0-9]{64}$/.test(opts.digest))
    throw new UsageError(`--digest ${opts.digest} is not a digest`);
  const skopeo: SkopeoOptions = { retries: Number(opts.retries), registriesConf: opts.registriesConf };
  const keys = opts.requireSignature ? keysFromEnv() : undefined;
  const kept = path.resolve(opts.imageDir) === path.resolve(opts.dest);
  try {
    // The referrers API is asked where skopeo goes: the same registries.conf, auth files and certificates.
    const client = RegistryClient.load({ registriesConf: opts.registriesConf, retries: skopeo.retries });
    const r = await carryProvenance({
      referrersApi: new ReferrersApi(client, opts.source),
      source: opts.source,
      identity: { host: ref.host, path: ref.path },
      digest: opts.digest,
      imageDir: opts.imageDir,
      dest: opts.dest,
      skopeo,
      keys,
    });
    const out = [...r.warnings.map((w) => `warning: ${w}`), ...carryLines(opts.digest, r)];
    if (out.length) process.stdout.write(out.join("\n") + "\n");
    return 0;
  } catch (e) {
    const what = e instanceof Refusal ? `refused: ${e.message}` : (e as Error).message;
    const note = kept && e instanceof Refusal ? "; the copy mirrored earlier is left as it was" : "";
    process.stderr.write(`${opts.ref}: ${what}${note}\n`);
    return 1;
  }
}

/** Reads a key file for `mirror --verify-key` / `check --verify-key`, as {name, text}. */
export function readKeyFiles(files: readonly string[]): {
  keys: VerifyKey[];
  texts: { name: string; text: string }[];
} {
  const problems: string[] = [];
  const texts: { name: string; text: string }[] = [];
  for (const f of files) {
    try {
      texts.push({ name: f, text: fs.readFileSync(f, "utf8") });
    } catch (e) {
      problems.push(
        `--verify-key ${f}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`,
      );
    }
  }
  const parsed = parsePublicKeys(texts);
  problems.push(...parsed.problems.map((p) => `--verify-key: ${p}`));
  if (problems.length) throw new UsageError(problems.join("\n"));
  return { keys: parsed.keys, texts };
}
