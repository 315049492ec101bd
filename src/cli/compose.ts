/**
 * `generate --into DIR`: several images roots in one nginx server, one
 * command per root (the files: src/nginx/compose.ts).
 *
 *   generate --shared --into DIR       the shared parts, once (no ROOT)
 *   generate ROOT --into DIR [--name-prefix P] [--server-root S] [--root-name N]
 *                                      writes or replaces that root's parts
 *
 * Every file is written to a temp name and renamed, so nginx (re)loading
 * meanwhile reads whole files. The catalog is the one file every root's run
 * rewrites: it is computed from the roots' records on disk, written, and
 * computed again until the records it came from are still the ones on disk.
 * So two runs at once (two roots, or a root and --shared) leave a catalog of
 * both without a lock that a killed run could leave behind: whichever writes
 * the catalog last read every record renamed before its final check, and a
 * record renamed after that check belongs to a run that writes later.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { scan } from "../inventory";
import { RenderError } from "../nginx";
import {
  COMPOSE_CATALOG,
  COMPOSE_HTTP,
  COMPOSE_SERVER,
  ROOTS_DIR,
  checkComposeDir,
  composeCatalog,
  parseRootRecord,
  renderComposeRoot,
  renderComposeShared,
  rootFiles,
  type RootRecord,
} from "../nginx/compose";
import { problemList } from "../problemList";
import { loadInventory, normalizePrefix, printWarnings, requireClean } from "./common";
import { UsageError } from "./errors";
import { findNjsModule } from "./njsModule";
import { findNginx } from "./serve";

export interface IntoOptions {
  into: string;
  shared?: boolean;
  rootName?: string;
  namePrefix?: string;
  serverRoot?: string;
  /** DIR as nginx sees it (default: DIR). */
  configDir?: string;
  mapHashSizes?: boolean;
  /** The catalog page at / (a shared part; commander's --no-ui sets false). */
  ui?: boolean;
}

/** How often the catalog is recomputed while other runs keep changing DIR, before giving up. */
const MAX_CATALOG_ROUNDS = 100;

export async function runGenerateInto(root: string | undefined, opts: IntoOptions): Promise<number> {
  const dir = path.resolve(opts.into);
  if (opts.shared) {
    if (root !== undefined) {
      throw new UsageError(
        `--shared takes no ROOT (got ${JSON.stringify(root)}): the shared parts are the same for every images root`,
      );
    }
    const given = (["namePrefix", "serverRoot", "rootName"] as const).filter((k) => opts[k]);
    if (given.length) {
      throw new UsageError(
        `--shared writes no root's parts: ${given.map(flagOf).join(", ")} go with ROOT --into`,
      );
    }
    const seenAs = checkComposeDir(path.resolve(opts.configDir ?? dir));
    const files = renderComposeShared({ dir: seenAs, mapHashSizes: opts.mapHashSizes, ui: opts.ui });
    writeFiles(dir, files);
    const records = writeCatalog(dir);
    sharedReport(dir, seenAs, records, opts.mapHashSizes !== false, opts.ui !== false);
    return 0;
  }
  if (root === undefined) {
    throw new UsageError(
      "generate --into DIR needs ROOT, the images root to add (or --shared, for the shared parts)",
    );
  }
  if (opts.configDir)
    throw new UsageError("--config-dir goes with --shared (a root's parts name no paths of DIR)");
  if (opts.mapHashSizes === false)
    throw new UsageError("--no-map-hash-sizes goes with --shared (it sets them)");
  if (opts.ui === false)
    throw new UsageError("--no-ui goes with --shared (the page is one of the shared parts)");
  const inv = await loadInventory(root, scan);
  requireClean(inv);
  printWarnings(inv);
  const part = renderComposeRoot(inv, {
    name: opts.rootName,
    namePrefix: normalizePrefix(opts.namePrefix),
    serverRoot: opts.serverRoot,
  });
  const { name } = part.record;
  // Refused before anything is written: a repository another root serves.
  const present = readRecords(dir);
  const before = present.find((r) => r.name === name);
  try {
    composeCatalog([...present.filter((r) => r.name !== name), part.record]);
  } catch (e) {
    if (e instanceof RenderError)
      throw new UsageError(`root ${name}: ${e.message}
Nothing was written.`);
    throw e;
  }
  writeFiles(dir, part.files);
  let records: RootRecord[];
  try {
    records = writeCatalog(dir);
  } catch (e) {
    // Only when another run added a root with the same repositories meanwhile.
    if (e instanceof RenderError)
      throw new UsageError(`root ${name} was written, but the catalog cannot be: ${e.message}`);
    throw e;
  }
  const f = rootFiles(name);
  const total = records.reduce((n, r) => n + r.repositories.length, 0);
  process.stderr.write(
    `${before ? "replaced" : "added"} root ${name}: ${part.record.repositories.length} repositories` +
      `${part.record.namePrefix ? ` as ${part.record.namePrefix}…` : ""} (${path.join(dir, f.map)}, ${f.lists.slice(ROOTS_DIR.length + 1)}, ${f.record.slice(ROOTS_DIR.length + 1)})` +
      `${before && before.root !== part.record.root ? `; it was ${before.root}` : ""}\n` +
      `catalog: ${total} repositories of ${records.length} root(s). Reload nginx to serve them (nginx -s reload).\n`,
  );
  if (!fs.existsSync(path.join(dir, COMPOSE_HTTP))) {
    process.stderr.write(
      `note: ${path.join(dir, COMPOSE_HTTP)} is missing: run generate --shared --into ${dir} once\n`,
    );
  }
  return 0;
}

function flagOf(k: "namePrefix" | "serverRoot" | "rootName"): string {
  return { namePrefix: "--name-prefix", serverRoot: "--server-root", rootName: "--root-name" }[k];
}

/** What nginx.conf needs, with the njs module's absolute path on this machine. */
function sharedReport(
  dir: string,
  seenAs: string,
  records: RootRecord[],
  mapHashSizes: boolean,
  ui: boolean,
): void {
  let nginx: string | undefined;
  try {
    nginx = findNginx();
  } catch {
    nginx = undefined;
  }
  const njs = findNjsModule(nginx);
  process.stderr.write(
    `wrote the shared parts to ${dir} (${COMPOSE_HTTP}, ${COMPOSE_SERVER}, the njs module, ${ui ? "the catalog page at /, " : ""}` +
      `${COMPOSE_CATALOG}: ${records.length} root(s) so far). nginx.conf needs:\n` +
      `  load_module ${njs.path};${njs.found ? "" : "  # not found here: install libnginx-mod-http-js (Debian) or nginx-module-njs (nginx.org)"}\n` +
      `  http {\n` +
      `      include ${seenAs}/${COMPOSE_HTTP};   # before any map of yours${mapHashSizes ? " (it sets the map hash sizes)" : ""}\n` +
      `      server {\n` +
      `          listen 5000;\n` +
      `          include ${seenAs}/${COMPOSE_SERVER};\n` +
      `      }\n` +
      `  }\n` +
      `(Debian's own nginx.conf loads the module already: leave out load_module there.)\n` +
      `Then, per images root: generate ROOT --into ${dir} --name-prefix P\n`,
  );
}

/** The records in DIR/roots, every unreadable one named at once. */
function readRecords(dir: string): RootRecord[] {
  return parseRecords(dir, readRecordTexts(dir));
}

function parseRecords(dir: string, texts: Map<string, string>): RootRecord[] {
  const records: RootRecord[] = [];
  const problems: string[] = [];
  for (const [file, text] of texts) {
    try {
      records.push(parseRootRecord(text, file));
    } catch (e) {
      if (!(e instanceof RenderError)) throw e;
      problems.push(e.message);
    }
  }
  if (problems.length) {
    throw new UsageError(
      `${problems.length} root record(s) in ${path.join(dir, ROOTS_DIR)} cannot be read ` +
        `(remove or regenerate them):\n${problemList(problems, "")}`,
    );
  }
  return records;
}

/** DIR/roots/*.json: path → text, in name order (a file removed meanwhile is skipped). */
function readRecordTexts(dir: string): Map<string, string> {
  const rootsDir = path.join(dir, ROOTS_DIR);
  let names: string[];
  try {
    names = fs.readdirSync(rootsDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return new Map();
    throw e;
  }
  const texts = new Map<string, string>();
  for (const n of names.filter((n) => n.endsWith(".json") && !n.startsWith(".")).sort()) {
    const file = path.join(rootsDir, n);
    try {
      texts.set(file, fs.readFileSync(file, "utf8"));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }
  return texts;
}

/**
 * Writes DIR/catalog.lists from the records on disk, again until they did
 * not change meanwhile (see the top of this file). Returns the records.
 */
function writeCatalog(dir: string): RootRecord[] {
  try {
    return settle(
      () => readRecordTexts(dir),
      (texts) => {
        const records = parseRecords(dir, texts);
        writeFiles(dir, { [COMPOSE_CATALOG]: composeCatalog(records) });
        return records;
      },
    );
  } catch (e) {
    if (e instanceof Unsettled)
      throw new UsageError(
        `the roots in ${dir} kept changing while the catalog was written; run generate again`,
      );
    throw e;
  }
}

class Unsettled extends Error {}

/**
 * Reads the inputs, writes what follows from them, and reads them again:
 * done when they are what the write came from, else once more (at most
 * MAX_CATALOG_ROUNDS times). The last writer of several at once is then one
 * that saw every input written before its check.
 */
export function settle<T>(read: () => Map<string, string>, write: (inputs: Map<string, string>) => T): T {
  for (let round = 0; round < MAX_CATALOG_ROUNDS; round++) {
    const inputs = read();
    const out = write(inputs);
    const now = read();
    if (now.size === inputs.size && [...now].every(([k, v]) => inputs.get(k) === v)) return out;
  }
  throw new Unsettled();
}

/**
 * Writes files (relative to dir) each to a temp name first, then renames
 * them all: nginx never reads half a file, and a failure leaves the old ones.
 */
function writeFiles(dir: string, files: Record<string, string>): void {
  const temps: [string, string][] = [];
  try {
    for (const [rel, text] of Object.entries(files)) {
      const file = path.join(dir, rel);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
      fs.writeFileSync(tmp, text);
      temps.push([tmp, file]);
    }
    for (const [tmp, file] of temps) fs.renameSync(tmp, file);
  } finally {
    for (const [tmp] of temps) fs.rmSync(tmp, { force: true });
  }
}
