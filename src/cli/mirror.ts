/**
 * `mirror`: fills an images dir from image references with skopeo, one tag
 * directory per reference (layout in src/mirror/plan.ts), each by the shell
 * text of src/mirror/script.ts — the same text the component runs — with the
 * provenance step (src/provenance) carrying what refers to each image and,
 * with `--verify-key`, refusing the images not signed by one of the keys.
 * Then `--prune`, hardlink dedupe, and a summary. `--archive` writes one
 * image to a single oci-archive file instead.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  DEFAULT_RETRIES,
  canonicalReference,
  dedupeTree,
  mirrorScript,
  parseImageList,
  parseReferences,
  partialDir,
  planMirror,
  pruneTree,
  runScript,
  skopeoArchiveArgv,
  tagDir,
  type ImageReference,
  type Outcome,
  type SkopeoOptions,
} from "../mirror";
import { errorLine } from "../mirror/exec";
import { provenanceArgv, VERIFY_KEYS_ENV, verifyKeysEnv } from "../provenance/command";
import { addLines, countsText, emptyCounts } from "../provenance/report";
import { subjectOfTag } from "../provenance/tags";
import { formatBytes } from "./common";
import { UsageError } from "./errors";
import { readKeyFiles } from "./provenance";
import { spawnSync } from "node:child_process";

export interface MirrorOptions {
  from?: string[];
  to?: string;
  prune?: boolean;
  dedupe?: boolean;
  archive?: string;
  registriesConf?: string;
  retries?: string;
  /** Public key files: only images signed by one of them land. */
  verifyKey?: string[];
  /** false with --no-referrers: copy the images alone. */
  referrers?: boolean;
}

function skopeoOptions(opts: MirrorOptions): SkopeoOptions {
  const retries = opts.retries === undefined ? DEFAULT_RETRIES : Number(opts.retries);
  if (!Number.isInteger(retries) || retries < 0 || retries > 20)
    throw new UsageError(
      `--retries must be a whole number from 0 to 20, not ${JSON.stringify(opts.retries)}`,
    );
  // Newer skopeo reads CONTAINERS_REGISTRIES_CONF itself; 1.9 only takes the flag.
  const registriesConf = opts.registriesConf ?? process.env.CONTAINERS_REGISTRIES_CONF;
  if (registriesConf !== undefined && !fs.existsSync(registriesConf))
    throw new UsageError(`registries.conf ${registriesConf} does not exist`);
  return { retries, registriesConf: registriesConf && path.resolve(registriesConf) };
}

/** Every reference from the arguments and the --from files; every bad one reported at once. */
function collect(refs: string[], from: string[]): ImageReference[] {
  const fromArgs = parseReferences(refs);
  const problems = [...fromArgs.problems];
  const references = [...fromArgs.references];
  for (const file of from) {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (e) {
      problems.push(
        `--from ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`,
      );
      continue;
    }
    const list = parseImageList(text, file);
    problems.push(...list.problems);
    references.push(...list.references);
  }
  if (problems.length)
    throw new UsageError(problems.map((p) => `bad image reference ${p}`).join("\n") + "\nnothing was copied");
  return references;
}

export async function runMirror(refs: string[], opts: MirrorOptions): Promise<number> {
  const skopeo = skopeoOptions(opts);
  if (opts.archive !== undefined) return runArchive(refs, opts.archive, opts, skopeo);
  if (!opts.to) throw new UsageError("mirror needs --to ROOT (the images dir to fill)");
  const from = opts.from ?? [];
  const references = collect(refs, from);
  if (!references.length && !from.length)
    throw new UsageError("no image references given (REF... or --from FILE)");
  const { items, problems } = planMirror(references);
  if (problems.length) throw new UsageError(`${problems.join("\n")}\nnothing was copied`);
  const keyFiles = opts.verifyKey ?? [];
  const carry = opts.referrers !== false;
  if (keyFiles.length && !carry)
    throw new UsageError(
      "--verify-key checks the signatures that --no-referrers leaves behind; use one of them",
    );
  const { texts } = readKeyFiles(keyFiles);
  const env = texts.length ? { ...process.env, [VERIFY_KEYS_ENV]: verifyKeysEnv(texts) } : process.env;
  const provenance = emptyCounts();

  const root = path.resolve(opts.to);
  fs.mkdirSync(root, { recursive: true });
  const tty = process.stderr.isTTY;
  const counts = { copied: 0, skipped: 0, failed: 0 };
  const failures: string[] = [];
  let current: (() => void) | undefined;
  let interrupted: string | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = signal;
    current?.();
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    for (const [i, item] of items.entries()) {
      if (interrupted) break;
      const n = `[${i + 1}/${items.length}]`;
      const step = carry ? provenanceArgv(item, root, skopeo, texts.length > 0) : undefined;
      const running = runScript(mirrorScript(item, root, skopeo, step), env);
      current = running.stop;
      const ticker = tty ? progress(n, item.canonical, partialDir(tagDir(root, item))) : undefined;
      const outcome: Outcome = await running.done;
      if (ticker) {
        clearInterval(ticker);
        process.stderr.write("\r\x1b[K");
      }
      current = undefined;
      if (interrupted) {
        process.stderr.write(
          `static-container-registry: mirror stopped by ${interrupted} during ${item.ref.input}; its partial copy is not a tag (a rerun replaces it)\n`,
        );
        return 130;
      }
      for (const w of outcome.warnings) process.stderr.write(`warning: ${w}\n`);
      if (outcome.status === "failed") {
        // The provenance step names the reference itself (for the component's output).
        const error = outcome.error.startsWith(`${item.canonical}: `)
          ? outcome.error.slice(item.canonical.length + 2)
          : outcome.error;
        counts.failed++;
        failures.push(`${item.ref.input}: ${error}`);
        process.stderr.write(`static-container-registry: mirror ${item.ref.input}: ${error}\n`);
        continue;
      }
      counts[outcome.status]++;
      const size = outcome.status === "copied" ? ` ${formatBytes(treeBytes(tagDir(root, item)))}` : "";
      const what = outcome.status === "copied" ? "copied " : "skipped";
      const mine = addLines(emptyCounts(), outcome.provenance);
      addLines(provenance, outcome.provenance);
      const signed = mine.verifiedBy.length ? `, signed (${mine.verifiedBy[0]})` : "";
      const copied = Object.values(mine.copied).some((c) => c > 0)
        ? ` + ${countsText(mine.copied, true)}`
        : "";
      process.stdout.write(
        `${n} ${what} ${item.canonical} -> ${item.tagPath} (${outcome.digest}${size}${outcome.status === "skipped" ? ", up to date" : ""}${signed})${copied}\n`,
      );
    }
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  }

  const out = [
    `${items.length} image${items.length === 1 ? "" : "s"} in ${root}: ${counts.copied} copied, ${counts.skipped} skipped (up to date), ${counts.failed} failed`,
  ];
  if (carry)
    out.push(
      `provenance copied: ${countsText(provenance.copied)}`,
      `provenance up to date: ${countsText(provenance.kept)}`,
    );
  if (texts.length)
    out.push(
      `signatures verified: ${provenance.verifiedBy.length} of ${items.length} image${items.length === 1 ? "" : "s"} (keys: ${keyFiles.join(", ")})`,
    );
  if (opts.prune) {
    const removed = pruneTree(root, new Set(items.map((i) => i.tagPath)), subjectOfTag);
    out.push(
      `pruned ${removed.length} tag${removed.length === 1 ? "" : "s"} no longer listed${removed.length ? `: ${removed.join(", ")}` : ""}`,
    );
  }
  if (opts.dedupe !== false) {
    const d = await dedupeTree(root);
    out.push(
      `dedupe: ${d.linked} file${d.linked === 1 ? "" : "s"} hardlinked, ${d.bytesSaved} bytes saved (${formatBytes(d.bytesSaved)})`,
    );
    for (const m of d.mismatched) out.push(`warning: ${m} does not hash to its name; left alone`);
  }
  process.stdout.write(out.join("\n") + "\n");
  if (failures.length) {
    process.stderr.write(
      `static-container-registry: ${failures.length} of ${items.length} image(s) failed (above)\n`,
    );
    return 1;
  }
  return 0;
}

/** `dedupe ROOT`: hardlinks identical blobs and reports the bytes saved. */
export async function runDedupe(root: string): Promise<number> {
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory())
    throw new UsageError(`${root} is not a directory`);
  const d = await dedupeTree(path.resolve(root));
  process.stdout.write(
    `${d.linked} file${d.linked === 1 ? "" : "s"} hardlinked, ${d.bytesSaved} bytes saved (${formatBytes(d.bytesSaved)})\n`,
  );
  for (const m of d.mismatched) process.stderr.write(`warning: ${m} does not hash to its name; left alone\n`);
  return d.mismatched.length ? 1 : 0;
}

/** `--archive FILE REF`: one image, every platform, as an oci-archive named by its full reference. */
function runArchive(refs: string[], file: string, opts: MirrorOptions, skopeo: SkopeoOptions): number {
  if (opts.to || opts.from?.length || opts.prune)
    throw new UsageError("--archive takes exactly one REF and no --to, --from or --prune");
  const [ref] = collect(refs, []);
  if (refs.length !== 1) throw new UsageError("--archive takes exactly one image reference");
  const name = canonicalReference(ref);
  const source = ref.digest ? `${ref.host}/${ref.path}@${ref.digest}` : name;
  const target = path.resolve(file);
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.partial`);
  fs.rmSync(tmp, { force: true });
  const [cmd, ...args] = skopeoArchiveArgv(source, tmp, name, skopeo);
  const r = spawnSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (r.error || r.status !== 0) {
    fs.rmSync(tmp, { force: true });
    throw new UsageError(`mirror --archive ${ref.input}: ${r.error?.message ?? errorLine(r.stderr)}`, 1);
  }
  fs.renameSync(tmp, target);
  process.stdout.write(
    `wrote ${name} to ${target} (oci-archive, ${formatBytes(fs.statSync(target).size)})\n`,
  );
  return 0;
}

function treeBytes(dir: string): number {
  let n = 0;
  try {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      n += e.isDirectory() ? treeBytes(p) : fs.statSync(p).size;
    }
  } catch {
    /* gone meanwhile */
  }
  return n;
}

/** On a terminal: `[n/N] ref: 12.3 MiB`, the size of the partial copy so far. */
function progress(n: string, ref: string, partial: string): NodeJS.Timeout {
  const show = () => process.stderr.write(`\r\x1b[K${n} ${ref}: ${formatBytes(treeBytes(partial))}`);
  show();
  return setInterval(show, 200);
}
