/**
 * render: Inventory (+ options) → nginx config text. Pure and deterministic:
 * the same Inventory and options always give byte-identical output.
 *
 * - renderInclude: http-context maps + server-context locations, for an
 *   nginx config someone else owns (the old generator's output), optionally
 *   split into constants and data (the old tool's flags).
 * - renderComposeShared / renderComposeRoot / composeCatalog: several images
 *   roots in one server, one directory of parts per server and one set of
 *   files per root, the catalog over all of them (compose.ts).
 * - renderStandalone: a complete nginx.conf (plus data files when large) that
 *   runs with a read-only root filesystem.
 *
 * Design (details in the modules):
 * - data.ts: ONE map, keyed by repository id and tag or digest (one entry
 *   per tag and per (repository, digest)), whose values are small typed
 *   records; anything that is not a key is never served. A blob that several
 *   repositories hold is one entry of a second map instead, with a group of
 *   repositories that may serve it. Map lookups are hash lookups
 *   (bench/RESULTS.md, Scaling).
 * - files.ts: where a record's file is, relative to the images root (written
 *   once) or to the repository's directory, the digest taken from the URL.
 * - maps.ts / locations.ts: constant, anchored locations per URL shape and
 *   regex maps that take the records apart; JSON errors through one
 *   internal error location. Manifests and blobs are plain nginx.
 * - lists.ts, listData.ts, njs.ts, referrers.ts: the list endpoints
 *   (tags/list, _catalog, referrers) are answered by a small njs module from
 *   a second map holding the sorted lists in chunks: any `n`, any `last`,
 *   `?artifactType=`, exactly as the spec says (lists.ts is the rule).
 *   nginx needs ngx_http_js_module (Debian: libnginx-mod-http-js; the
 *   official nginx images ship it).
 *
 * Known limits:
 * - The Accept header is not consulted: a manifest is always served as stored.
 * - A referrer descriptor too long for one value (~4 KB) is listed without
 *   its annotations.
 * - Upper-case tags are regex keys, tried in order on upper-case lookups and
 *   misses: fine for dozens, slow for tens of thousands.
 * - Data parts merged by the old flags (include.ts) carry no catalog; the
 *   composition (compose.ts) computes one over every root.
 */
export { renderInclude, renderSharedInclude, type IncludeFiles } from "./include";
export {
  composeCatalog,
  parseRootRecord,
  renderComposeRoot,
  renderComposeShared,
  type ComposeRootOptions,
  type ComposeSharedOptions,
  type RootRecord,
} from "./compose";
export {
  renderStandalone,
  type StandaloneOptions,
  type RenderedConfig,
  DEFAULT_MAX_FILE_BYTES,
  MAIN_FILE,
} from "./standalone";
export { DEFAULT_DATA_INCLUDE, type RenderOptions, type SharedRenderOptions } from "./options";
export { RenderError } from "./escape";
export { PLAIN_HTTP_URI, type TlsOptions } from "./tls";
