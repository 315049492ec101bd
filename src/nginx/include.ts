/**
 * The registry include: http-context text (maps) and server-context text
 * (locations), for an nginx config that someone else owns.
 *
 *   http {
 *       include registry.http.conf;      # IncludeFiles.http
 *       server {
 *           listen 5000;
 *           include registry.server.conf; # IncludeFiles.server
 *       }
 *   }
 *
 * part "all" (default): both texts, the data inline in the lookup map.
 *
 * Merging several images roots into one registry (the old tool's
 * --only-constants / --omit-constants):
 *  - render part "constants" once: its lookup map is a shell whose entries
 *    come from `include <dataInclude>` (default
 *    "static-container-registry.d/*.map", relative to nginx's config dir), and
 *    its server text is the locations;
 *  - render part "data" for each root, each with its own serverRoot (its
 *    values carry the full file paths) and, usually, its own namePrefix (its
 *    keys carry the full repository names); write each `.http` to a file
 *    matched by dataInclude and each `.lists` to one matched by listsInclude
 *    (default "static-container-registry.d/*.lists"). `.server` is empty.
 *  Every part's `.js` is the same njs module: put it at `jsModule` (default
 *  "static-container-registry.js", relative to nginx's config dir), and load
 *  ngx_http_js_module in the main context (`load_module`).
 *  A data part is nothing but map entries, so any number of them merge into
 *  the one map. Two roots must not serve the same repository (nginx then
 *  refuses to start: "conflicting parameter").
 *  The constants set map_hash_max_size and map_hash_bucket_size: an http {}
 *  that sets them too must drop its own (nginx refuses duplicates).
 *  Known limit: the catalog is one list per inventory, and each data part
 *  would define it. So data parts carry no catalog unless asked
 *  (`catalog: true`, for at most one of them); without one, `_catalog`
 *  answers an empty list.
 */
import { MAX_NAME_LENGTH, MAX_TAG_LENGTH } from "../inventory/grammar";
import type { Inventory } from "../inventory/model";
import { token } from "./escape";
import { dataEntries, type DataEntries } from "./data";
import { serverConstants } from "./locations";
import { httpConstants } from "./maps";
import { NJS_MODULE } from "./njs";
import {
  resolveRenderOptions,
  resolveSharedOptions,
  type RenderOptions,
  type ResolvedRenderOptions,
  type ResolvedSharedOptions,
  type SharedRenderOptions,
} from "./options";

export interface IncludeFiles {
  /** http-context text: the maps. */
  http: string;
  /** server-context text: the locations. */
  server: string;
  /** The njs module the http text imports (njs.ts), to be put at `jsModule`. */
  js: string;
  /** Part "data" only: entries of the list map, for a file matched by `listsInclude`. Else "". */
  lists: string;
}

/** map_hash_max_size for part "constants", where the number of keys is not known. */
export const DEFAULT_MAP_HASH_MAX_SIZE = 262144;
/** map_hash_bucket_size for part "constants": keys up to ~500 bytes. */
export const DEFAULT_MAP_HASH_BUCKET_SIZE = 1024;
/** The longest exact key any valid inventory gives a map: `<name>:<tag>` (name and tag of the longest kinds). */
export const LONGEST_KEY_BYTES = MAX_NAME_LENGTH + 1 + MAX_TAG_LENGTH;

export function renderInclude(inv: Inventory, opts: RenderOptions = {}): IncludeFiles {
  if ((opts.part ?? "all") === "constants") return renderSharedInclude(opts);
  const o = resolveRenderOptions(inv, opts);
  const data = dataEntries(inv, o, { repositoryIds: o.part === "all" });
  if (o.part === "data") {
    return {
      http: dataHeader(inv) + [...data.exact, ...data.regex].map((l) => `${l}\n`).join(""),
      server: "# static-container-registry: a data part has no server-context text (see the constants).\n",
      js: NJS_MODULE,
      lists: listsHeader(inv) + data.lists.map((l) => `${l}\n`).join(""),
    };
  }
  const sizes = hashSizes(data, o.mapHashMaxSize);
  return {
    http: httpConstants(
      o.mapHashSizes ? sizes : { ...sizes, leftToUser: { minBucketSize: sizes.minBucketSize } },
      {
        lookup: [...data.exact, ...data.regex].join("\n"),
        all: {
          repositories: data.repositories.join("\n"),
          root: rootPrefix(o),
          namePrefix: o.namePrefix,
          shared: data.shared.join("\n"),
          members: data.members.join("\n"),
        },
        lists: data.lists.join("\n"),
        jsModule: o.jsModule,
      },
    ),
    server: serverConstants({ catchAll: false }),
    js: NJS_MODULE,
    lists: "",
  };
}

/**
 * Part "constants" (the old --only-constants): the same for every images
 * root, so it needs none. Its maps include their entries from `dataInclude`
 * and `listsInclude`.
 */
export function renderSharedInclude(opts: SharedRenderOptions = {}): IncludeFiles {
  const o = resolveSharedOptions(opts);
  return {
    http: sharedHttp(o, [o.dataInclude], [o.listsInclude]),
    server: serverConstants({ catchAll: false }),
    js: NJS_MODULE,
    lists: "",
  };
}

/** The http text of the shared parts: maps whose entries are included from these files (or globs). */
export function sharedHttp(
  o: ResolvedSharedOptions,
  lookupIncludes: readonly string[],
  listsIncludes: readonly string[],
): string {
  const sizes = {
    mapHashMaxSize: o.mapHashMaxSize ?? DEFAULT_MAP_HASH_MAX_SIZE,
    mapHashBucketSize: DEFAULT_MAP_HASH_BUCKET_SIZE,
  };
  const includes = (files: readonly string[]) => files.map((f) => `include ${token(f)};`).join("\n");
  return httpConstants(
    o.mapHashSizes ? sizes : { ...sizes, leftToUser: { minBucketSize: minBucketSize(LONGEST_KEY_BYTES) } },
    { lookup: includes(lookupIncludes), lists: includes(listsIncludes), jsModule: o.jsModule },
  );
}

/** The images root as records' paths are appended to it: with a "/". */
export function rootPrefix(o: ResolvedRenderOptions): string {
  return o.serverRoot === "/" ? "/" : `${o.serverRoot}/`;
}

/** The comment at the top of every data text (entries of the lookup map, nothing else). */
export function dataHeader(inv: Inventory): string {
  return (
    `# static-container-registry: lookup map entries for ${inv.repositories.length} repositories. Generated; do not edit.\n` +
    `# Included inside "map $scr_k $scr_obj { ... }" of the constants.\n`
  );
}

/** The comment at the top of every list data text (entries of the list map). */
export function listsHeader(inv: Inventory): string {
  return (
    `# static-container-registry: list map entries for ${inv.repositories.length} repositories. Generated; do not edit.\n` +
    `# Included inside "map $scr_lk $scr_lv { ... }" of the constants.\n`
  );
}

/**
 * Hash sizes for a known set of keys. nginx needs every key (plus a pointer)
 * to fit in a bucket, and builds the hash fastest, and sparsest, when
 * max_size is a few times the number of keys (it then starts its search
 * near max_size). `minBucketSize`: the least bucket size the longest key fits in.
 */
export function hashSizes(
  data: DataEntries,
  maxSizeOverride?: number,
): { mapHashMaxSize: number; mapHashBucketSize: number; minBucketSize: number } {
  const keyBytes = (line: string) => Buffer.byteLength(line.slice(0, line.indexOf(" ")));
  let longest = 0;
  for (const line of data.exact) longest = Math.max(longest, keyBytes(line));
  let longestAny = longest;
  for (const lines of [data.lists, data.repositories, data.shared, data.members])
    for (const line of lines) longestAny = Math.max(longestAny, keyBytes(line));
  return {
    mapHashMaxSize:
      maxSizeOverride ??
      Math.max(2048, nextPow2(Math.max(data.exact.length, data.shared.length, data.members.length) * 2)),
    // Room for the fullest bucket (a handful of keys when max_size is twice their number).
    mapHashBucketSize: Math.max(1024, nextPow2(8 * minBucketSize(longest))),
    minBucketSize: minBucketSize(longestAny),
  };
}

/**
 * The least map_hash_bucket_size a key of this many bytes fits in: nginx
 * stores a value pointer, the key's length and the key, aligned to a
 * pointer, and wants room for one more pointer in the bucket.
 */
export function minBucketSize(keyBytes: number): number {
  return 8 + Math.ceil((keyBytes + 2) / 8) * 8 + 8;
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
