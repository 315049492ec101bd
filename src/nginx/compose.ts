/**
 * Several images roots in one nginx server, one command per root: the files
 * of a composition directory DIR, as `generate --shared --into DIR` and
 * `generate ROOT --into DIR` write them.
 *
 *   DIR/http.conf                     shared: in http {}, before any map of yours
 *   DIR/server.conf                   shared: in a server {} of its own
 *   DIR/static-container-registry.js  shared: the njs module http.conf imports
 *   DIR/static-container-registry-ui.html  shared: the catalog page server.conf serves at /
 *   DIR/catalog.lists                 the catalog: every root's repositories
 *   DIR/roots/<root>.map              a root's lookup entries (include.ts, part "data")
 *   DIR/roots/<root>.lists            its tags and referrers (list map entries)
 *   DIR/roots/<root>.json             what it serves (a RootRecord)
 *
 * The shared parts depend on nothing but DIR: http.conf takes the roots'
 * entries with glob includes, so a root is added or replaced without
 * touching them or the other roots. The catalog is the one list over all
 * roots (the list endpoints page through one sorted list, listData.ts), so
 * it is computed from the roots' records whenever one changes; a repository
 * that two roots would serve is refused then, naming both (nginx would only
 * say "conflicting parameter" about a map key).
 */
import { isValidName } from "../inventory/grammar";
import { byteOrder, type Inventory } from "../inventory/model";
import { problemList } from "../problemList";
import { RenderError } from "./escape";
import { renderInclude, sharedHttp } from "./include";
import { catalogLines } from "./listData";
import { serverConstants } from "./locations";
import { JS_FILE, NJS_MODULE } from "./njs";
import {
  checkAbsoluteDir,
  resolveRenderOptions,
  resolveSharedOptions,
  type PageRenderOptions,
} from "./options";
import { catalogPage } from "./page";

/** The shared files, relative to DIR. */
export const COMPOSE_HTTP = "http.conf";
export const COMPOSE_SERVER = "server.conf";
export const COMPOSE_JS = JS_FILE;
/** The catalog over all roots, relative to DIR. */
export const COMPOSE_CATALOG = "catalog.lists";
/** The roots' files: ROOTS_DIR/<root>.map, .lists, .json. */
export const ROOTS_DIR = "roots";

/** What a root serves, as its generate recorded it in DIR/roots/<name>.json. */
export interface RootRecord {
  /** Its files' name in DIR. */
  name: string;
  /** The images root generate scanned. */
  root: string;
  /** The images root as nginx sees it. */
  serverRoot: string;
  namePrefix: string;
  /** Its repositories as served (prefix included), in byte order. */
  repositories: string[];
}

/** The record's `kind`, so that a foreign JSON file in DIR/roots is not mistaken for one. */
const RECORD_KIND = "static-container-registry root";

/** The three files of root `name`, relative to DIR. */
export function rootFiles(name: string): { map: string; lists: string; record: string } {
  return {
    map: `${ROOTS_DIR}/${name}.map`,
    lists: `${ROOTS_DIR}/${name}.lists`,
    record: `${ROOTS_DIR}/${name}.json`,
  };
}

const ROOT_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$/;

/**
 * The name of a root's files in DIR: the one given, else its name prefix
 * with "/" written as "+" (which no repository name holds, so two prefixes
 * never share a name). A root without a prefix must be given one.
 */
export function rootName(namePrefix: string, explicit?: string): string {
  if (explicit !== undefined) {
    if (!ROOT_NAME_RE.test(explicit)) {
      throw new RenderError(
        `root name ${JSON.stringify(explicit)} must be 1-100 letters, digits, '.', '_', '+' or '-', ` +
          `starting with a letter or digit (it names the root's files in the directory)`,
      );
    }
    return explicit;
  }
  if (namePrefix === "") {
    throw new RenderError(
      "a root without a name prefix needs a root name (--root-name NAME): it names the root's files in the directory",
    );
  }
  return namePrefix.replace(/\/$/, "").replace(/\//g, "+");
}

/**
 * DIR as nginx sees it, checked for what it is written into: absolute, no
 * '$' (a variable), no glob characters (http.conf includes DIR/roots/*), no
 * quotes or backslashes (njs refuses them in the module's path).
 */
export function checkComposeDir(dir: string): string {
  const d = checkAbsoluteDir("the composition directory", dir);
  if (/[*?[\]'"\\]/.test(d)) {
    throw new RenderError(
      `the composition directory ${JSON.stringify(d)} must not contain * ? [ ] quotes or backslashes ` +
        `(nginx includes roots/* from it, and njs loads its module from it)`,
    );
  }
  return d;
}

export interface ComposeSharedOptions extends PageRenderOptions {
  /** DIR as nginx sees it (absolute): every include and the njs module's path are written with it. */
  dir: string;
  /** Whether http.conf sets map_hash_max_size / map_hash_bucket_size (default true; see maps.ts). */
  mapHashSizes?: boolean;
}

/** The shared files (file name relative to DIR → text); the catalog comes from {@link composeCatalog}. */
export function renderComposeShared(opts: ComposeSharedOptions): Record<string, string> {
  const dir = checkComposeDir(opts.dir);
  const o = resolveSharedOptions({ jsModule: `${dir}/${COMPOSE_JS}`, mapHashSizes: opts.mapHashSizes });
  const roots = `${dir}/${ROOTS_DIR}`;
  const header = `# static-container-registry: the shared part of several images roots in one server.
# nginx.conf: load_module of ngx_http_js_module in the main context; in http {},
# before any map: include ${dir}/${COMPOSE_HTTP}; in a server {} of its own:
# include ${dir}/${COMPOSE_SERVER}; each root: generate ROOT --into ${dir}.
`;
  // Each root has its own name prefix: the page finds original names without knowing them.
  const page = opts.ui === false ? undefined : catalogPage(dir, undefined);
  return {
    [COMPOSE_HTTP]:
      header + sharedHttp(o, [`${roots}/*.map`], [`${roots}/*.lists`, `${dir}/${COMPOSE_CATALOG}`]),
    [COMPOSE_SERVER]: serverConstants({ catchAll: false }) + (page?.server ?? ""),
    [COMPOSE_JS]: NJS_MODULE,
    ...page?.files,
  };
}

export interface ComposeRootOptions {
  /** The root's files' name in DIR (default: from the name prefix, {@link rootName}). */
  name?: string;
  namePrefix?: string;
  serverRoot?: string;
}

/** One root's files (relative to DIR → text) and its record. */
export function renderComposeRoot(
  inv: Inventory,
  opts: ComposeRootOptions = {},
): { files: Record<string, string>; record: RootRecord } {
  const part = { part: "data" as const, namePrefix: opts.namePrefix, serverRoot: opts.serverRoot };
  const o = resolveRenderOptions(inv, part);
  const name = rootName(o.namePrefix, opts.name);
  const include = renderInclude(inv, part);
  const record: RootRecord = {
    name,
    root: inv.root,
    serverRoot: o.serverRoot,
    namePrefix: o.namePrefix,
    repositories: inv.repositories.map((r) => o.namePrefix + r.name).sort(byteOrder),
  };
  const f = rootFiles(name);
  return {
    files: { [f.map]: include.http, [f.lists]: include.lists, [f.record]: recordText(record) },
    record,
  };
}

/** A record as stored in DIR/roots/<name>.json. */
export function recordText(r: RootRecord): string {
  return `${JSON.stringify({ kind: RECORD_KIND, ...r }, null, 2)}\n`;
}

/** A record read back from `file` (named in every error), checked field by field. */
export function parseRootRecord(text: string, file: string): RootRecord {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new RenderError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const r = v as Partial<RootRecord> & { kind?: unknown };
  if (typeof v !== "object" || v === null || r.kind !== RECORD_KIND) {
    throw new RenderError(
      `${file}: not a root record of static-container-registry (no "kind": "${RECORD_KIND}")`,
    );
  }
  const wrong: string[] = [];
  for (const k of ["name", "root", "serverRoot", "namePrefix"] as const)
    if (typeof r[k] !== "string") wrong.push(`"${k}" is not a string`);
  if (typeof r.name === "string" && !file.endsWith(`/${r.name}.json`) && file !== `${r.name}.json`)
    wrong.push(`"name" is ${JSON.stringify(r.name)}, not the file's name`);
  if (!Array.isArray(r.repositories)) wrong.push(`"repositories" is not a list`);
  else {
    const bad = r.repositories.filter((n) => typeof n !== "string" || !isValidName(n));
    if (bad.length)
      wrong.push(`"repositories" holds ${bad.length} invalid name(s), e.g. ${JSON.stringify(bad[0])}`);
  }
  if (wrong.length) throw new RenderError(`${file}: ${wrong.join("; ")}`);
  return {
    name: r.name!,
    root: r.root!,
    serverRoot: r.serverRoot!,
    namePrefix: r.namePrefix!,
    repositories: r.repositories!,
  };
}

/** How many repositories two roots may share before the error stops naming them one by one. */
const MAX_NAMED_CONFLICTS = 10;

/**
 * DIR/catalog.lists: the catalog entries (listData.ts) of every root's
 * repositories, sorted. Refuses, naming them all, repositories that two
 * roots would serve (nginx cannot serve one name from two roots).
 */
export function composeCatalog(records: readonly RootRecord[]): string {
  const owner = new Map<string, RootRecord>();
  const conflicts: string[] = [];
  const sorted = [...records].sort((a, b) => byteOrder(a.name, b.name));
  for (const r of sorted) {
    for (const repo of r.repositories) {
      const o = owner.get(repo);
      if (o === undefined) owner.set(repo, r);
      else if (o !== r) conflicts.push(`${repo}: root ${o.name} (${o.root}) and root ${r.name} (${r.root})`);
    }
  }
  if (conflicts.length) {
    const named = conflicts.slice(0, MAX_NAMED_CONFLICTS);
    if (conflicts.length > named.length) named.push(`… and ${conflicts.length - named.length} more`);
    throw new RenderError(
      `${conflicts.length} repositor${conflicts.length === 1 ? "y is" : "ies are"} in two roots, ` +
        `which one server cannot serve (give one root a name prefix, or remove them from one):\n` +
        problemList(named, ""),
    );
  }
  const names = [...owner.keys()];
  return (
    `# static-container-registry: the catalog, ${names.length} repositories of ${sorted.length} root(s)` +
    `${sorted.length ? ` (${sorted.map((r) => r.name).join(", ")})` : ""}.\n` +
    `# Computed from ${ROOTS_DIR}/*.json by generate --into; do not edit.\n` +
    `# Included inside "map $scr_lk $scr_lv { ... }" of ${COMPOSE_HTTP}.\n` +
    catalogLines(names)
      .map((l) => `${l}\n`)
      .join("")
  );
}
