/**
 * The http-context constants: the lookup map (whose entries are the data,
 * data.ts) and the small maps that take its values apart, choose page sizes
 * and word the errors. Nothing here depends on the inventory.
 *
 * Request flow (locations.ts): a location matches the URL shape with an
 * anchored regex, sets `$scr_k` (the lookup key), and reads `$scr_obj`. Maps
 * are evaluated lazily, when a variable is first read, and cached for the
 * request.
 */
import { accessLogFormatText } from "./accessLog";
import { quoted, regexLiteral, token } from "./escape";
import { fileFieldMap } from "./files";
import { MEDIA_TYPE_CODES } from "./data";
import { JS_IMPORT } from "./njs";

export const API_VERSION_HEADER = "add_header Docker-Distribution-API-Version registry/2.0 always;";

/** The internal location every error is redirected to (error_page), which words it as JSON. */
export const ERROR_URI = "/_static-container-registry/error";

/**
 * Errors. Locations `set $scr_err KEY` and `return STATUS`; nginx's own errors
 * (a malformed request, a missing file, a bad Range) arrive with no key and are
 * worded by their status. detail may use the names the locations captured.
 */
const ERRORS: { key: string; code: string; message: string; detail?: string }[] = [
  {
    key: "NAME_UNKNOWN",
    code: "NAME_UNKNOWN",
    message: "repository name not known to registry",
    detail: '{"name":"$scr_name"}',
  },
  {
    key: "MANIFEST_UNKNOWN",
    code: "MANIFEST_UNKNOWN",
    message: "manifest unknown",
    detail: '{"name":"$scr_name","reference":"$scr_ref"}',
  },
  {
    key: "BLOB_UNKNOWN",
    code: "BLOB_UNKNOWN",
    message: "blob unknown to registry",
    detail: '{"name":"$scr_name","digest":"sha256:$scr_hex"}',
  },
  {
    key: "DIGEST_INVALID",
    code: "DIGEST_INVALID",
    message: "invalid digest: this registry serves sha256:<64 lower-case hex> digests",
    detail: '{"name":"$scr_name"}',
  },
  { key: "NAME_INVALID", code: "NAME_INVALID", message: "invalid repository name" },
  {
    key: "PAGINATION_NUMBER_INVALID",
    code: "PAGINATION_NUMBER_INVALID",
    message: "invalid number of results requested: n must be a non-negative integer",
  },
  {
    key: "UNSUPPORTED",
    code: "UNSUPPORTED",
    message: "this registry is read-only: only GET and HEAD are supported",
  },
  // By status, for errors without a key.
  { key: "400", code: "BAD_REQUEST", message: "bad request" },
  { key: "403", code: "DENIED", message: "access to the resource is denied" },
  { key: "404", code: "NOT_FOUND", message: "not found" },
  { key: "405", code: "UNSUPPORTED", message: "this registry is read-only: only GET and HEAD are supported" },
  { key: "413", code: "SIZE_INVALID", message: "request body too large (this registry is read-only)" },
  { key: "414", code: "BAD_REQUEST", message: "request URI too long" },
  { key: "416", code: "RANGE_INVALID", message: "requested range not satisfiable" },
];

/** Statuses that error_page sends to {@link ERROR_URI}. */
export const ERROR_STATUSES = [400, 403, 404, 405, 413, 414, 416, 494, 500, 502, 503, 504];

export interface HttpConstantsOptions {
  mapHashMaxSize: number;
  mapHashBucketSize: number;
  /**
   * Leave map_hash_max_size and map_hash_bucket_size to the http {} around
   * the text (which may set them only once, before its first map), saying in
   * a comment what they must be: the smallest bucket size every key fits in.
   */
  leftToUser?: { minBucketSize: number };
}

/** What the http-context text is made of besides the constants. */
export interface HttpBodies {
  /** The inside of the lookup map: data lines, or an `include` of the files that hold them. */
  lookup: string;
  /**
   * With all data in one place: the inside of the repository-id map, the
   * images root (with "/") and the name prefix. Absent for the constants of
   * merged data parts (the lookup map's regexes tell known repositories).
   */
  all?: { repositories: string; root: string; namePrefix: string; shared: string; members: string };
  /** The inside of the list map (listData.ts), likewise. */
  lists: string;
  /** Path of the njs module for `js_import` (njs.ts). */
  jsModule: string;
}

/**
 * The repositories: their ids (data.ts), their directories and the images
 * root. With all data in one place (`all`), ids from an exact map — a miss in
 * the lookup map then costs one more hash lookup, however many repositories —
 * and the root written once; else (constants for merged data parts) the name
 * is the id and the data parts' records carry their roots.
 */
function repositoryMaps(all: HttpBodies["all"]): string {
  if (!all) {
    return `
# Merged data parts: the repository name is its id, records carry their roots.
map $scr_name $scr_rid {
    default $scr_name;
}
map $scr_name $scr_root {
    default "";
}
map $scr_name $scr_rdir {
    default "";
}
`;
  }
  const rdir =
    all.namePrefix === ""
      ? "    default $scr_name/;"
      : `    ${quoted(`~^${regexLiteral(all.namePrefix)}(?<scr_rd>.++)$`)} $scr_rd/;
    default "";`;
  return `
# The repository in the URL: its id in the lookup keys, "" when unknown.
map $scr_name $scr_rid {
    default "";
${indent(all.repositories, 4)}}
# The lookup map's answer when it has no entry for the object: "" when the
# repository is unknown, else "?", then for a blob that several repositories
# hold (data.ts): "1" if this repository is one of them, "|", and the blob's
# group and file. The blob location serves only "?1|...".
map $scr_rid $scr_known {
    "" "";
    default ?$scr_member|$scr_shared;
}
# Blobs that several repositories hold: hex -> <group>|<file>.
map $scr_hex $scr_shared {
    default "";
${indent(all.shared, 4)}}
map $scr_shared $scr_group {
    "~^(?<scr_sg>[0-9a-z]++)\\|" $scr_sg;
    default "";
}
# The groups' repositories: <rid>/<group> -> 1.
map $scr_rid/$scr_group $scr_member {
    default "";
${indent(all.members, 4)}}
# Where records' files are (files.ts): the images root, and the repository's
# directory below it.
map $scr_name $scr_root {
    default ${token(all.root)};
}
map $scr_name $scr_rdir {
${rdir}
}
`;
}

/**
 * The http-context text: the constants around the data (lookup map, known
 * repositories, lists) and the njs module's import.
 */
export function httpConstants(o: HttpConstantsOptions, b: HttpBodies): string {
  return `# static-container-registry: http context (maps). Generated; do not edit.
${mapHashText(o)}
# The list endpoints (tags/list, _catalog, referrers) are answered by njs
# (needs ngx_http_js_module loaded: load_module in the main context).
js_import ${JS_IMPORT} from ${token(b.jsModule)};

# The lookup: request key -> typed record (see data.ts). $scr_k is set by the
# registry locations; "" means the repository is unknown, "?" that the
# repository exists but the object does not.
map $scr_k $scr_obj {
    default ${b.all ? "$scr_known" : '""'};
${indent(b.lookup, 4)}}
${repositoryMaps(b.all)}
# The lists, in chunks (listData.ts), read only by the njs handlers: nothing
# in this config reads $scr_lv, so nginx never caches it within a request and
# each read by njs is a fresh lookup.
map $scr_lk $scr_lv {
    default "";
${indent(b.lists, 4)}}

# Tags are case-sensitive but exact map keys are not: keys with upper case
# are regexes on "!" + key.
map $scr_ref $scr_bang {
    "~[A-Z]" "!";
    default "";
}

# Manifest records: M<type>|<hex>|<file>, the hex empty when the URL has the
# digest. The manifests locations split the record with one regex into
# $scr_mc (type code), $scr_md (hex) and $scr_mf (file): one pass over it,
# where a map per field would lower-case and scan it once each (bench: 2-4 %).
map $scr_md $scr_mdigest {
    "" $scr_ref;
    default sha256:$scr_md;
}
map $scr_md $scr_mhex {
    "" $scr_hex;
    default $scr_md;
}
map $scr_mc $scr_mtype {
${Object.entries(MEDIA_TYPE_CODES)
  .map(([c, t]) => `    ${c} ${t};`)
  .join("\n")}
    default $scr_mc;
}
# By digest a manifest never changes; by tag it may.
map $scr_ref $scr_mcache {
    "~^sha256:" "public, max-age=31536000, immutable";
    default "";
}

# Files (files.ts): of a manifest ($scr_mf), of a blob ($scr_bf: the file
# field of a B record, or of a manifest served under /blobs/).
${fileFieldMap("$scr_mf", "$scr_mfile", "$scr_mhex", "scr_fm")}
${fileFieldMap("$scr_bf", "$scr_bfile", "$scr_hex", "scr_fb")}

# Errors: the key a location set (for its own 400/404/405), else the status.
map "$status:$scr_err" $scr_ekey {
    '~^(?:400|404|405):(?<scr_ek>[A-Z_]++)$' $scr_ek;
    default $status;
}
map $scr_ekey $scr_ecode {
${ERRORS.map((e) => `    ${e.key} ${e.code};`).join("\n")}
    default UNKNOWN;
}
map $scr_ekey $scr_emsg {
${ERRORS.map((e) => `    ${e.key} ${quoted(e.message)};`).join("\n")}
    default "internal error";
}
map $scr_ekey $scr_edetail {
${ERRORS.filter((e) => e.detail)
  .map((e) => `    ${e.key} ${quoted(e.detail!)};`)
  .join("\n")}
    default "{}";
}
map $status $scr_apiv {
    416 "";
    default registry/2.0;
}
map $status $scr_allow {
    405 "GET, HEAD";
    default "";
}

${accessLogFormatText()}`;
}

/**
 * The map hash sizes. nginx fixes them for the whole http {} at its first
 * `map` (a later map_hash_* is "directive is duplicate"), so they either
 * come first or are the user's own.
 */
function mapHashText(o: HttpConstantsOptions): string {
  if (o.leftToUser) {
    return `# map_hash_max_size and map_hash_bucket_size are left to the http {} around
# this file, which must set them before its first map: map_hash_bucket_size
# ${o.leftToUser.minBucketSize} or more (else nginx cannot build the maps below), and
# map_hash_max_size ${o.mapHashMaxSize} (less only slows the lookups down).
`;
  }
  return `# Room for the lookup map's keys; raise map_hash_max_size if nginx says so.
# nginx takes them once per http {}, before its first map (a later one is
# "directive is duplicate"): in an http {} of yours, include this text before
# your maps, or generate it without them (--no-map-hash-sizes) and set yours.
map_hash_max_size ${o.mapHashMaxSize};
map_hash_bucket_size ${o.mapHashBucketSize};
`;
}

function indent(text: string, n: number): string {
  if (text === "") return "";
  const pad = " ".repeat(n);
  return (
    text
      .split("\n")
      .map((l) => (l === "" ? l : pad + l))
      .join("\n")
      .replace(/\s*$/, "") + "\n"
  );
}
