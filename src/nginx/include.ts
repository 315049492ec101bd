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
 *    matched by dataInclude. `.server` is empty for data.
 *  A data part is nothing but map entries, so any number of them merge into
 *  the one map. Two roots must not serve the same repository (nginx then
 *  refuses to start: "conflicting parameter").
 *  The constants set map_hash_max_size and map_hash_bucket_size: an http {}
 *  that sets them too must drop its own (nginx refuses duplicates).
 *  Known limit: `_catalog` pages are precomputed per inventory, and each data
 *  part would define the first page. So data parts carry no catalog unless
 *  asked (`catalog: true`, for at most one of them); without one, `_catalog`
 *  answers an empty list.
 */
import type { Inventory } from "../inventory/model";
import { token } from "./escape";
import { dataEntries, type DataEntries } from "./data";
import { serverConstants } from "./locations";
import { httpConstants } from "./maps";
import { resolveRenderOptions, type RenderOptions } from "./options";

export interface IncludeFiles {
  /** http-context text: the maps. */
  http: string;
  /** server-context text: the locations. */
  server: string;
}

/** map_hash_max_size for part "constants", where the number of keys is not known. */
export const DEFAULT_MAP_HASH_MAX_SIZE = 262144;
/** map_hash_bucket_size for part "constants": keys up to ~500 bytes. */
export const DEFAULT_MAP_HASH_BUCKET_SIZE = 1024;

export function renderInclude(inv: Inventory, opts: RenderOptions = {}): IncludeFiles {
  const o = resolveRenderOptions(inv, opts);
  if (o.part === "constants") {
    return {
      http: httpConstants(
        {
          mapHashMaxSize: o.mapHashMaxSize ?? DEFAULT_MAP_HASH_MAX_SIZE,
          mapHashBucketSize: DEFAULT_MAP_HASH_BUCKET_SIZE,
        },
        `include ${token(o.dataInclude)};`,
      ),
      server: serverConstants({ catchAll: false }),
    };
  }
  const data = dataEntries(inv, o, { exactRepositories: o.part === "all" });
  if (o.part === "data") {
    return {
      http: dataHeader(inv) + [...data.exact, ...data.regex].map((l) => `${l}\n`).join(""),
      server: "# static-container-registry: a data part has no server-context text (see the constants).\n",
    };
  }
  return {
    http: httpConstants(
      hashSizes(data, o.mapHashMaxSize),
      [...data.exact, ...data.regex].join("\n"),
      data.repositories.join("\n"),
    ),
    server: serverConstants({ catchAll: false }),
  };
}

/** The comment at the top of every data text (entries of the lookup map, nothing else). */
export function dataHeader(inv: Inventory): string {
  return (
    `# static-container-registry: lookup map entries for ${inv.repositories.length} repositories. Generated; do not edit.\n` +
    `# Included inside "map $scr_k $scr_obj { ... }" of the constants.\n`
  );
}

/**
 * Hash sizes for a known set of keys. nginx needs every key (plus a pointer)
 * to fit in a bucket, and builds the hash fastest, and sparsest, when
 * max_size is a few times the number of keys (it then starts its search
 * near max_size).
 */
export function hashSizes(
  data: DataEntries,
  maxSizeOverride?: number,
): { mapHashMaxSize: number; mapHashBucketSize: number } {
  let longest = 0;
  for (const line of data.exact)
    longest = Math.max(longest, Buffer.byteLength(line.slice(0, line.indexOf(" "))));
  const elt = 8 + Math.ceil((longest + 2) / 8) * 8;
  return {
    mapHashMaxSize: maxSizeOverride ?? Math.max(2048, nextPow2(data.exact.length * 2)),
    // Room for the fullest bucket (a handful of keys when max_size is twice their number).
    mapHashBucketSize: Math.max(1024, nextPow2(8 * (elt + 8))),
  };
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
