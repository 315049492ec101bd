/**
 * Carrying what refers to one image: run by the mirror script (through the
 * CLI's internal `provenance` command) after the image was copied to its
 * staging directory — or found up to date — and before it is moved into place.
 *
 * 1. Discovery: every tag that could refer to the image's digests (plan.ts)
 *    is fetched with `skopeo inspect --raw`, in parallel; a missing one is
 *    simply absent. Skopeo honours the same registries.conf, auth and
 *    certificates as the image copy did. The OCI referrers of each digest
 *    are asked of the upstream's referrers API first (referrersApi.ts, which
 *    reaches the same registry with the same credentials); only where it has
 *    none is the referrers tag schema's `sha256-<hex>` tag fetched instead.
 *    The referrers found are searched the same way, a few levels deep (a
 *    signature of an SBOM).
 * 2. Each tag found is compared with the tag directory already in the tree by
 *    digest (an unchanged one is left alone, so a re-run only fetches what is
 *    new), else copied with `skopeo copy --preserve-digests` by digest into a
 *    dot-directory beside its tag (never scanned).
 *
 *    Layout rule for referrers, however found: the referrers of a digest live
 *    in the tag directory `sha256-<hex>` of the image's repository, as the
 *    referrers tag schema has it — an index listing them as `manifest.json`,
 *    each referrer beside it as `<hex>.manifest.json` with its blobs, as
 *    `skopeo copy --all` lays out an index (skopeo 1.9 itself refuses to copy
 *    one whose descriptors carry `artifactType`). So the scan serves each
 *    referrer by its digest, and the registry's referrers API lists it under
 *    its `subject`. The index is upstream's exact bytes when it came from the
 *    tag; for referrers found through the API it is built from the API's
 *    descriptors (referrersIndexBytes: the same list, in digest order), the
 *    form a registry without the API would have held. A referrer already in
 *    the tree with its blobs is linked into the new directory, not fetched
 *    again.
 * 3. With keys, the image's own signature (`sha256-<hex>.sig` of the image
 *    digest; for an index, of the index digest) must verify (verify.ts), else
 *    the image is refused: nothing is moved into place and the staging
 *    directories are removed.
 * 4. Everything staged is renamed into place; the image follows (the script
 *    moves it), so a signature never lands after its image.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { sha256 } from "../inventory/manifest";
import { errorLine } from "../mirror/exec";
import { skopeoCopyArgv, skopeoInspectArgv, type SkopeoOptions } from "../mirror/skopeo";
import { type VerifyKey } from "./keys";
import { type Identity } from "./payload";
import { planProvenance, type ProvenanceItem } from "./plan";
import { referrersIndexBytes, type ReferrersLookup } from "./referrersApi";
import { type ProvenanceKind } from "./tags";
import { verifySignatures, type Verdict } from "./verify";

export interface CarryOptions {
  /** The upstream repository as skopeo names it: `host/path`. */
  source: string;
  /** The repository signatures must name. */
  identity: Identity;
  /** The image's digest. */
  digest: string;
  /** The directory holding the image's manifest.json (its staging copy, or its tag directory). */
  imageDir: string;
  /** The image's tag directory in the tree; its parent holds the repository's tags. */
  dest: string;
  skopeo: SkopeoOptions;
  /** When given, the image must be signed by one of them. */
  keys?: readonly VerifyKey[];
  /** Levels of referrers of referrers searched (default 3). */
  depth?: number;
  /** The upstream's referrers API (referrersApi.ts); without it, the tag schema alone. */
  referrersApi?: { list(digest: string): Promise<ReferrersLookup> };
}

export interface Carried {
  kind: ProvenanceKind;
  tag: string;
  /** The digest of the tag's manifest. */
  digest: string;
  status: "copied" | "kept";
  /** For a referrers index: how many referrers it lists. */
  referrers: number;
  /** For a referrers index: how many of them were fetched this time (the others were in the tree). */
  fetched: number;
  /** For a referrers index: found through the referrers API, not a tag. */
  viaApi?: boolean;
}

export interface CarryResult {
  carried: Carried[];
  warnings: string[];
  /** The key the image's signature verified under (with keys). */
  verifiedBy?: VerifyKey;
}

/** The image failed the signature check; `message` says why. */
export class Refusal extends Error {
  constructor(readonly verdict: Extract<Verdict, { ok: false }>) {
    super(verdict.message);
    this.name = "Refusal";
  }
}

const DIR_VERSION = "Directory Transport Version: 1.1\n";
const PROBES_AT_ONCE = 8;
/** What skopeo says when the tag is not there (registries word it differently). */
const MISSING = /manifest unknown|not found|name unknown|MANIFEST_UNKNOWN|NOT_FOUND/i;

interface Run {
  code: number;
  stdout: Buffer;
  stderr: string;
}

function run(argv: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("error", (e) => resolve({ code: 127, stdout: Buffer.alloc(0), stderr: e.message }));
    child.once("close", (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr }));
  });
}

/** Runs `fn` over `items`, at most `limit` at a time, results in order. */
async function pool<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The child digests of an index document, or [] for anything else. */
function childDigests(bytes: Buffer): string[] {
  try {
    const doc = JSON.parse(bytes.toString("utf8")) as unknown;
    if (!isObject(doc) || !Array.isArray(doc.manifests)) return [];
    return doc.manifests
      .map((m) => (isObject(m) ? m.digest : undefined))
      .filter((d): d is string => typeof d === "string" && /^sha256:[a-f0-9]{64}$/.test(d));
  } catch {
    return [];
  }
}

function readIfFile(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch {
    return undefined;
  }
}

interface Found {
  item: ProvenanceItem;
  bytes: Buffer;
  digest: string;
  /** A referrers index built from the referrers API's answer. */
  viaApi?: boolean;
  /** Where its files are once fetched: its tag directory (kept) or its staging directory. */
  dir?: string;
  staged?: string;
  /** Referrers fetched (not linked from the tree). */
  fetched?: number;
}

/** Carries the provenance of one image (see the header); throws Refusal or an Error naming what failed. */
export async function carryProvenance(o: CarryOptions): Promise<CarryResult> {
  const repoDir = path.dirname(o.dest);
  const ownTag = path.basename(o.dest);
  const result: CarryResult = { carried: [], warnings: [] };
  const imageManifest = fs.readFileSync(path.join(o.imageDir, "manifest.json"));

  // 1. Discovery.
  const found: Found[] = [];
  const done = new Set<string>();
  let subjects = [o.digest, ...childDigests(imageManifest)];
  for (let level = 0; subjects.length && level <= (o.depth ?? 3); level++) {
    const items = planProvenance(subjects, undefined, ownTag, done);
    items.forEach((i) => done.add(i.tag));
    const fetched = await pool(items, PROBES_AT_ONCE, (item) => discover(o, item, result.warnings));
    subjects = [];
    items.forEach((item, i) => {
      const { bytes, viaApi } = fetched[i];
      if (!bytes) return;
      if (item.conflict) {
        result.warnings.push(`${o.source}:${item.tag} not carried: ${item.conflict}`);
        return;
      }
      if (item.kind === "referrers") {
        const children = childDigests(bytes);
        if (!children.length) {
          result.warnings.push(`${o.source}:${item.tag} not carried: it is not an index of referrers`);
          return;
        }
        subjects.push(...children);
      }
      found.push({ item, bytes, digest: sha256(bytes), viaApi });
    });
  }

  try {
    // 2. Fetch what is new.
    for (const f of found) {
      const dir = path.join(repoDir, f.item.tag);
      const have = readIfFile(path.join(dir, "manifest.json"));
      if (have && sha256(have) === f.digest) {
        f.dir = dir;
        continue;
      }
      f.staged = path.join(repoDir, `.${f.item.tag}.partial`);
      f.dir = f.staged;
      await stage(o, f, dir);
    }

    // 3. The gate.
    if (o.keys) {
      const sigTag = found.find((f) => f.item.kind === "signature" && f.item.subject === o.digest);
      const verdict = verifySignatures(
        {
          tag: sigTag?.item.tag ?? `sha256-${o.digest.slice(7)}.sig`,
          manifest: sigTag && fs.readFileSync(path.join(sigTag.dir!, "manifest.json")),
          blob: (d) =>
            sigTag && /^sha256:[a-f0-9]{64}$/.test(d)
              ? readIfFile(path.join(sigTag.dir!, d.slice(7)))
              : undefined,
        },
        o.digest,
        o.identity,
        o.keys,
      );
      if (!verdict.ok) throw new Refusal(verdict);
      result.verifiedBy = verdict.key;
    }

    // 4. Into place.
    for (const f of found) {
      if (f.staged) place(f.staged, path.join(repoDir, f.item.tag));
      result.carried.push({
        kind: f.item.kind,
        tag: f.item.tag,
        digest: f.digest,
        status: f.staged ? "copied" : "kept",
        referrers: f.item.kind === "referrers" ? childDigests(f.bytes).length : 0,
        fetched: f.fetched ?? 0,
        ...(f.viaApi ? { viaApi: true } : {}),
      });
    }
    return result;
  } finally {
    for (const f of found) if (f.staged) fs.rmSync(f.staged, { recursive: true, force: true });
  }
}

/**
 * What `item` finds upstream: for the referrers of a digest, the referrers
 * API's answer as an index (undefined when it lists none) or, where there is
 * no API, the tag; for the other kinds, the tag.
 */
async function discover(
  o: CarryOptions,
  item: ProvenanceItem,
  warnings: string[],
): Promise<{ bytes?: Buffer; viaApi?: boolean }> {
  if (item.kind === "referrers" && o.referrersApi) {
    const r = await o.referrersApi.list(item.subject);
    if (r.api) {
      warnings.push(...r.warnings.map((w) => `${o.source}: ${w}`));
      return r.descriptors.length ? { bytes: referrersIndexBytes(r.descriptors), viaApi: true } : {};
    }
  }
  return { bytes: await inspect(o, item.tag) };
}

/** The exact bytes of `tag` upstream, or undefined when it is not there. */
async function inspect(o: CarryOptions, tag: string): Promise<Buffer | undefined> {
  const r = await run(skopeoInspectArgv(`${o.source}:${tag}`, o.skopeo));
  if (r.code === 0) return r.stdout;
  if (MISSING.test(r.stderr)) return undefined;
  throw new Error(`looking for ${o.source}:${tag}: ${errorLine(r.stderr)}`);
}

/** `skopeo copy` of `source@digest` into `dir` (which must not exist); the manifest must have that digest. */
async function copyByDigest(o: CarryOptions, digest: string, dir: string): Promise<Buffer> {
  const r = await run(skopeoCopyArgv(`${o.source}@${digest}`, dir, o.skopeo));
  if (r.code !== 0) throw new Error(`copying ${o.source}@${digest}: ${errorLine(r.stderr)}`);
  const bytes = fs.readFileSync(path.join(dir, "manifest.json"));
  if (sha256(bytes) !== digest)
    throw new Error(`copying ${o.source}@${digest}: got a manifest of digest ${sha256(bytes)}`);
  return bytes;
}

/**
 * Links referrer `digest` and the blobs its manifest names from `from` (the
 * tag directory of an earlier run) into `dir`, when all are there with their
 * sizes; false (nothing linked) otherwise. Files in the tree are never
 * rewritten in place, so a link shares nothing that can change.
 */
function reuse(from: string, digest: string, dir: string): boolean {
  const name = `${digest.slice(7)}.manifest.json`;
  const bytes = readIfFile(path.join(from, name));
  if (!bytes || sha256(bytes) !== digest) return false;
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString("utf8"));
  } catch {
    return false;
  }
  if (!isObject(doc) || !isObject(doc.config) || !Array.isArray(doc.layers)) return false;
  const blobs = [doc.config, ...doc.layers];
  const files: string[] = [];
  for (const b of blobs) {
    if (!isObject(b) || typeof b.digest !== "string" || !/^sha256:[a-f0-9]{64}$/.test(b.digest)) return false;
    const hex = b.digest.slice(7);
    try {
      if (fs.statSync(path.join(from, hex)).size !== b.size) return false;
    } catch {
      return false;
    }
    files.push(hex);
  }
  for (const f of [name, ...files]) {
    const to = path.join(dir, f);
    if (fs.existsSync(to)) continue;
    try {
      fs.linkSync(path.join(from, f), to);
    } catch {
      fs.copyFileSync(path.join(from, f), to);
    }
  }
  return true;
}

/** Fetches a found tag into its staging directory; `current` is its tag directory (may hold referrers to reuse). */
async function stage(o: CarryOptions, f: Found, current: string): Promise<void> {
  const dir = f.staged!;
  fs.rmSync(dir, { recursive: true, force: true });
  if (f.item.kind !== "referrers") {
    await copyByDigest(o, f.digest, dir);
    return;
  }
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, "manifest.json"), f.bytes);
  fs.writeFileSync(path.join(dir, "version"), DIR_VERSION);
  f.fetched = 0;
  for (const child of childDigests(f.bytes)) {
    if (reuse(current, child, dir)) continue;
    f.fetched++;
    const tmp = path.join(dir, ".child");
    fs.rmSync(tmp, { recursive: true, force: true });
    await copyByDigest(o, child, tmp);
    for (const name of fs.readdirSync(tmp)) {
      const to =
        name === "manifest.json"
          ? `${child.slice(7)}.manifest.json`
          : /^[a-f0-9]{64}(\.manifest\.json)?$/.test(name)
            ? name
            : undefined;
      if (to && !fs.existsSync(path.join(dir, to))) fs.renameSync(path.join(tmp, name), path.join(dir, to));
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Renames `staged` to `dest`, replacing what was there (moved aside first, so no half tag is seen). */
function place(staged: string, dest: string): void {
  const old = path.join(path.dirname(dest), `.${path.basename(dest)}.old`);
  fs.rmSync(old, { recursive: true, force: true });
  if (fs.existsSync(dest)) fs.renameSync(dest, old);
  fs.renameSync(staged, dest);
  fs.rmSync(old, { recursive: true, force: true });
}
