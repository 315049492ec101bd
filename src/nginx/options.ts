/**
 * The options of render, and their validation. Everything a user can type
 * (name prefix, server root, listen address, directories) is checked here,
 * before any text is produced.
 */
import { NAME } from "../inventory/grammar";
import type { Inventory } from "../inventory/model";
import { RenderError, checkVariables } from "./escape";
import { JS_FILE } from "./njs";

export interface RenderOptions {
  /**
   * Prepended to every repository name (the old tool's --name-prefix):
   * "mirror/" serves repository "a/b" as "mirror/a/b". Empty, or a valid
   * repository name followed by "/".
   */
  namePrefix?: string;
  /**
   * The images root as nginx sees it: a path, an nginx variable such as
   * `$registry_root`, or a template placeholder like `{{ROOT}}`. Default: inv.root.
   */
  serverRoot?: string;
  /** "all" (default), "constants" (old --only-constants), "data" (old --omit-constants). */
  part?: "all" | "constants" | "data";
  /**
   * Only for part "constants": the file (or glob) that the lookup map
   * includes its entries from, i.e. where the "data" parts are put. Relative
   * paths are relative to nginx's config prefix (the directory of nginx.conf).
   * Default {@link DEFAULT_DATA_INCLUDE}.
   */
  dataInclude?: string;
  /**
   * Only for part "constants": the file (or glob) that the list map includes
   * its entries from (the "data" parts' `lists`). Default {@link DEFAULT_LISTS_INCLUDE}.
   */
  listsInclude?: string;
  /**
   * For the include parts "all" and "constants": where nginx finds the njs
   * module (`js_import`; the text is the include's `js`). Relative paths are
   * relative to nginx's config dir. Default {@link JS_FILE}.
   */
  jsModule?: string;
  /**
   * Whether the data carries the `/v2/_catalog` list. Default: true, except for
   * part "data", because several data parts merged into one registry would
   * each define the first catalog page (see the note in include.ts).
   */
  catalog?: boolean;
  /**
   * `map_hash_max_size` for the constants: room for this many lookup keys.
   * Default: computed from the inventory for "all"; 262144 for "constants".
   */
  mapHashMaxSize?: number;
  /**
   * Whether the http text sets `map_hash_max_size` and `map_hash_bucket_size`
   * (default true). nginx takes them once per http {}, and only before its
   * first `map`: false leaves them to an http {} that sets its own (the text
   * then says in a comment what they must be at least).
   */
  mapHashSizes?: boolean;
}

/**
 * The catalog page at `/` (src/ui, page.ts), for the forms that own a server
 * {} and a config dir: the standalone config and the composition's shared
 * parts. The include (part "all" / "constants") has no page: it knows no
 * directory nginx would read the page's file from.
 */
export interface PageRenderOptions {
  /** Serve the catalog page at `/` (default true); false leaves `/` to the rest of the server. */
  ui?: boolean;
}

/** The options of the parts that need no inventory (part "constants", the shared parts). */
export type SharedRenderOptions = Pick<
  RenderOptions,
  "dataInclude" | "listsInclude" | "jsModule" | "mapHashMaxSize" | "mapHashSizes"
>;

export const DEFAULT_DATA_INCLUDE = "static-container-registry.d/*.map";
export const DEFAULT_LISTS_INCLUDE = "static-container-registry.d/*.lists";

export interface ResolvedRenderOptions {
  namePrefix: string;
  /** Without a trailing slash (unless it is "/"). */
  serverRoot: string;
  part: "all" | "constants" | "data";
  dataInclude: string;
  listsInclude: string;
  jsModule: string;
  catalog: boolean;
  mapHashMaxSize?: number;
  mapHashSizes: boolean;
}

export type ResolvedSharedOptions = Pick<
  ResolvedRenderOptions,
  "dataInclude" | "listsInclude" | "jsModule" | "mapHashMaxSize" | "mapHashSizes"
>;

const prefixRe = new RegExp(`^(?:${NAME}/)?$`);

export function resolveRenderOptions(inv: Inventory, opts: RenderOptions = {}): ResolvedRenderOptions {
  const part = opts.part ?? "all";
  if (!["all", "constants", "data"].includes(part)) {
    throw new RenderError(`part must be "all", "constants" or "data", not ${JSON.stringify(part)}`);
  }
  const namePrefix = opts.namePrefix ?? "";
  if (!prefixRe.test(namePrefix)) {
    throw new RenderError(
      `namePrefix ${JSON.stringify(namePrefix)} must be empty or a repository name followed by "/" (e.g. "mirror/")`,
    );
  }
  const serverRoot = normalizeRoot("serverRoot", opts.serverRoot ?? inv.root);
  return {
    ...resolveSharedOptions(opts),
    namePrefix,
    serverRoot,
    part,
    catalog: opts.catalog ?? part !== "data",
  };
}

/** The options every part has, checked without an inventory. */
export function resolveSharedOptions(opts: SharedRenderOptions = {}): ResolvedSharedOptions {
  const dataInclude = checkPath("dataInclude", opts.dataInclude ?? DEFAULT_DATA_INCLUDE);
  const listsInclude = checkPath("listsInclude", opts.listsInclude ?? DEFAULT_LISTS_INCLUDE);
  const jsModule = checkPath("jsModule", opts.jsModule ?? JS_FILE);
  if (
    opts.mapHashMaxSize !== undefined &&
    !(Number.isInteger(opts.mapHashMaxSize) && opts.mapHashMaxSize > 0)
  ) {
    throw new RenderError(`mapHashMaxSize must be a positive integer, not ${opts.mapHashMaxSize}`);
  }
  return {
    dataInclude,
    listsInclude,
    jsModule,
    mapHashMaxSize: opts.mapHashMaxSize,
    mapHashSizes: opts.mapHashSizes ?? true,
  };
}

/** A path written into the config verbatim: not empty, no '$' (nginx would read a variable), no control characters. */
function checkPath(what: string, p: string): string {
  if (p === "" || /[\u0000-\u001f\u007f$]/.test(p)) {
    throw new RenderError(`${what} ${JSON.stringify(p)} must be a path without '$' or control characters`);
  }
  return p;
}

/** A root that file paths are appended to: no trailing slash, no control characters, `$` only for variables. */
export function normalizeRoot(what: string, root: string): string {
  if (root === "") throw new RenderError(`${what} must not be empty`);
  if (/[\u0000-\u001f\u007f]/.test(root)) {
    throw new RenderError(`${what} ${JSON.stringify(root)} contains control characters`);
  }
  checkVariables(what, root);
  return root.length > 1 ? root.replace(/\/+$/, "") : root;
}

/** An absolute path we write into nginx's config verbatim (no variables there). */
export function checkAbsoluteDir(what: string, dir: string): string {
  if (!dir.startsWith("/"))
    throw new RenderError(`${what} must be an absolute path, not ${JSON.stringify(dir)}`);
  if (/[\u0000-\u001f\u007f$]/.test(dir)) {
    throw new RenderError(`${what} ${JSON.stringify(dir)} must not contain '$' or control characters`);
  }
  return dir.length > 1 ? dir.replace(/\/+$/, "") : dir;
}

/**
 * A listen address as nginx's `listen` takes it: "5000", "127.0.0.1:5000",
 * "[::1]:5000", "0.0.0.0:8080", "localhost:5000".
 */
export function checkListen(listen: string): string {
  const m =
    /^(?:(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):)?(\d{1,5})$/.exec(
      listen,
    );
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new RenderError(
      `listen ${JSON.stringify(listen)} must be PORT or HOST:PORT (e.g. 5000, 127.0.0.1:5000, [::1]:5000)`,
    );
  }
  return listen;
}
