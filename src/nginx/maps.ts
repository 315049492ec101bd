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
import { quoted, token } from "./escape";
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
}

/** What the http-context text is made of besides the constants. */
export interface HttpBodies {
  /** The inside of the lookup map: data lines, or an `include` of the files that hold them. */
  lookup: string;
  /** The inside of the known-repositories map (absent: the lookup map's regexes tell them). */
  repositories?: string;
  /** The inside of the list map (listData.ts), likewise. */
  lists: string;
  /** Path of the njs module for `js_import` (njs.ts). */
  jsModule: string;
}

/**
 * The known repositories, by exact name (the lookup map's default): a miss in
 * the lookup map costs one more hash lookup, however many repositories.
 * $scr_name is captured by the registry locations.
 */
function repositoryMap(body: string): string {
  return `
# "?" when the repository in the URL exists: the lookup map's answer when it
# has no entry for the object itself.
map $scr_name $scr_repo {
    default "";
${indent(body, 4)}}
`;
}

/**
 * The http-context text: the constants around the data (lookup map, known
 * repositories, lists) and the njs module's import.
 */
export function httpConstants(o: HttpConstantsOptions, b: HttpBodies): string {
  return `# static-container-registry: http context (maps). Generated; do not edit.
# Room for the lookup map's keys; raise map_hash_max_size if nginx says so.
map_hash_max_size ${o.mapHashMaxSize};
map_hash_bucket_size ${o.mapHashBucketSize};

# The list endpoints (tags/list, _catalog, referrers) are answered by njs
# (needs ngx_http_js_module loaded: load_module in the main context).
js_import ${JS_IMPORT} from ${token(b.jsModule)};

# The lookup: request key -> typed record (see data.ts). $scr_k is set by the
# registry locations; "" means the repository is unknown, "?" that the
# repository exists but the object does not.
map $scr_k $scr_obj {
    default ${b.repositories === undefined ? '""' : "$scr_repo"};
${indent(b.lookup, 4)}}
${b.repositories === undefined ? "" : repositoryMap(b.repositories)}
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
# digest. The manifests location splits the record with one regex into
# $scr_mc (type code), $scr_md (hex) and $scr_mf (file): one pass over it,
# where a map per field would lower-case and scan it once each (bench: 2-4 %).
map $scr_md $scr_mdigest {
    "" $scr_ref;
    default sha256:$scr_md;
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

# Blob records: B<file>, or b<dir>/ + the digest hex from the URL.
map $scr_obj $scr_bfile {
    '~^B(?<scr_bf>.++)$' $scr_bf;
    '~^b(?<scr_bd>.++)$' $scr_bd$scr_hex;
    default "";
}

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
