/**
 * The server-context constants: anchored locations for every URL shape of the
 * pull API, the write refusal, and the JSON error page. The same text serves
 * any inventory: per-object data comes from the lookup map (maps.ts).
 *
 * Rules kept throughout:
 *  - every regex is anchored (^…$) and matched against nginx's normalised
 *    $uri (percent-decoded, "." and ".." resolved, slashes merged), and no
 *    location maps a URL onto the file system: files come only from map
 *    values, so a URL that is not a key is never a file;
 *  - `add_header` in a location replaces the inherited ones, so each location
 *    repeats the API-version header (with `always`, so errors carry it too);
 *  - `if` is only used with `return`/`set`, the safe subset.
 */
import { NAME, TAG } from "../inventory/grammar";
import { API_VERSION_HEADER, ERROR_STATUSES, ERROR_URI } from "./maps";
import { JS_IMPORT } from "./njs";
import { OCI_INDEX } from "./referrers";

const JSON_TYPE = "types {}\n    default_type application/json;";

/** Headers of a stored file: ours instead of nginx's mtime-based ones (copies on different nodes differ in mtime). */
const FILE_HEADERS = `etag off;
    if_modified_since off;
    add_header Last-Modified "";`;

export interface ServerConstantsOptions {
  /** Standalone: also answer everything outside /v2 (with a JSON 404). */
  catchAll: boolean;
}

export function serverConstants(o: ServerConstantsOptions): string {
  const name = `(?<scr_name>${NAME})`;
  return `# static-container-registry: server context (locations). Generated; do not edit.
# Meant for a server {} of its own: the write refusal and error pages below
# apply to the whole server.

# The pull log reads $scr_wm, which only a refused write sets (below): an
# unset one is not worth a warning per request.
uninitialized_variable_warn off;

# Read-only: every method but GET and HEAD, on any URL, is 405 UNSUPPORTED.
# ($request_method is not cached, and error_page turns the method into GET,
# so the error page itself passes this check.)
if ($request_method !~ ^(?:GET|HEAD)$) {
    # For the pull log: the error page is served as a GET (accessLog.ts).
    set $scr_wm $request_method;
    return 405;
}

# Every error, ours or nginx's, is answered as JSON by one internal location.
error_page ${ERROR_STATUSES.join(" ")} ${ERROR_URI};

location = ${ERROR_URI} {
    internal;
    # Most errors never set $scr_err; that is not worth a warning each.
    uninitialized_variable_warn off;
    ${JSON_TYPE}
    # A 416 keeps the headers of the file it refers to, this one included.
    add_header Docker-Distribution-API-Version $scr_apiv always;
    add_header Allow $scr_allow always;
    # The status stays the original error's (error_page without "=").
    return 200 '{"errors":[{"code":"$scr_ecode","message":"$scr_emsg","detail":$scr_edetail}]}';
}

location = /v2 {
    absolute_redirect off;
    ${API_VERSION_HEADER}
    return 301 /v2/;
}

location = /v2/ {
    ${JSON_TYPE}
    ${API_VERSION_HEADER}
    return 200 '{}';
}

# Blobs by digest (also a manifest of the repository, served as a blob).
location ~ "^/v2/${name}/blobs/(?<scr_dg>sha256:(?<scr_hex>[a-f0-9]{64}))$" {
    set $scr_err BLOB_UNKNOWN;
    set $scr_k $scr_rid@$scr_hex;
    if ($scr_obj = "") {
        set $scr_err NAME_UNKNOWN;
        return 404;
    }
    # A blob record, or a manifest's (whose hex is always the URL's here), or
    # a shared blob of a group this repository is in (maps.ts); else 404.
    if ($scr_obj !~ "^(?:B|M[^|]*+\\|\\||\\?1\\|[^|]++\\|)(?<scr_bf>.++)$") {
        return 404;
    }
    # Conditional GET: the ETag is the digest, so a match means "unchanged".
    if ($http_if_none_match = '"sha256:$scr_hex"') {
        return 304;
    }
    # Only a regular file is served: nginx would redirect a directory to ".../".
    if (!-f $scr_bfile) {
        return 404;
    }
    alias $scr_bfile;
    types {}
    default_type application/octet-stream;
    ${FILE_HEADERS}
    add_header Docker-Content-Digest sha256:$scr_hex;
    add_header ETag '"sha256:$scr_hex"';
    add_header Cache-Control "public, max-age=31536000, immutable";
    ${API_VERSION_HEADER}
}

# Manifests by digest, then by tag: the stored bytes with the stored media type.
${manifestLocation(`(?<scr_ref>sha256:(?<scr_hex>[a-f0-9]{64}))`, "$scr_rid@$scr_hex")}
${manifestLocation(`(?<scr_ref>${TAG})`, "$scr_bang$scr_rid:$scr_ref")}

# The list endpoints: njs (njs.ts) slices the lists at any n and last and
# filters referrers; nginx first answers what it can (unknown repository).
location ~ "^/v2/${name}/tags/list$" {
    set $scr_err NAME_UNKNOWN;
    # No such key (tags are not empty): "?" when the repository exists.
    set $scr_k $scr_rid:;
    if ($scr_obj = "") {
        return 404;
    }
    set $scr_lk "";
    ${JSON_TYPE}
    ${API_VERSION_HEADER}
    js_content ${JS_IMPORT}.tags;
}

location = /v2/_catalog {
    set $scr_err "";
    set $scr_lk "";
    ${JSON_TYPE}
    ${API_VERSION_HEADER}
    js_content ${JS_IMPORT}.catalog;
}

location ~ "^/v2/${name}/referrers/(?<scr_dg>sha256:(?<scr_hex>[a-f0-9]{64}))$" {
    set $scr_err NAME_UNKNOWN;
    set $scr_k $scr_rid:;
    if ($scr_obj = "") {
        return 404;
    }
    set $scr_lk "";
    types {}
    default_type ${OCI_INDEX};
    ${API_VERSION_HEADER}
    js_content ${JS_IMPORT}.referrers;
}

# Uploads exist only to be refused, whatever the method.
location ~ "^/v2/.+/blobs/uploads(?:/.*)?$" {
    set $scr_err UNSUPPORTED;
    return 405;
}

# What is left is an error; the most specific one wins.
location ~ "^/v2/${name}/(?:blobs|referrers)/[^/]*$" {
    set $scr_err DIGEST_INVALID;
    return 400;
}
location ~ "^/v2/${name}/manifests/[^/]*:[^/]*$" {
    set $scr_err DIGEST_INVALID;
    return 400;
}
location ~ "^/v2/${name}/manifests/[^/]+$" {
    # Not a valid tag: unknown in a known repository, else the repository is unknown.
    set $scr_err MANIFEST_UNKNOWN;
    set $scr_k $scr_rid:;
    if ($scr_obj = "") {
        set $scr_err NAME_UNKNOWN;
    }
    return 404;
}
location ~ "^/v2/${name}/(?:manifests|blobs|tags|referrers)(?:/.*)?$" {
    return 404;
}
location ~ "^/v2/.+/(?:manifests|blobs|tags|referrers)(?:/.*)?$" {
    set $scr_err NAME_INVALID;
    return 400;
}
location /v2/ {
    return 404;
}
${
  o.catchAll
    ? `
location / {
    return 404;
}
`
    : ""
}`;
}

/** A manifests location: `ref` captures the reference (as $scr_ref), `key` is the lookup key. */
function manifestLocation(ref: string, key: string): string {
  return `location ~ "^/v2/(?<scr_name>${NAME})/manifests/${ref}$" {
    set $scr_err MANIFEST_UNKNOWN;
    set $scr_k ${key};
    if ($scr_obj = "") {
        set $scr_err NAME_UNKNOWN;
        return 404;
    }
    # Not a manifest record ("?": the repository exists); else split it (see maps).
    if ($scr_obj !~ "^M(?<scr_mc>[^|]*+)\\|(?<scr_md>(?:[0-9a-f]{64})?)\\|(?<scr_mf>.++)$") {
        return 404;
    }
    # The digest served, for the pull log (the headers below read it too).
    set $scr_dg $scr_mdigest;
    if ($http_if_none_match = '"$scr_mdigest"') {
        return 304;
    }
    if (!-f $scr_mfile) {
        return 404;
    }
    alias $scr_mfile;
    # No type from file extensions: the header below is the only Content-Type.
    types {}
    default_type "";
    ${FILE_HEADERS}
    add_header Content-Type $scr_mtype;
    add_header Docker-Content-Digest $scr_mdigest;
    add_header ETag '"$scr_mdigest"';
    add_header Cache-Control $scr_mcache;
    ${API_VERSION_HEADER}
}`;
}
