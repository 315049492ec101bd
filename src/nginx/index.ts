/**
 * render: Inventory (+ options) → nginx config text. Pure and deterministic:
 * the same Inventory and options always give byte-identical output.
 *
 * - renderInclude: http-context maps + server-context locations, for an
 *   nginx config someone else owns (the old generator's output), optionally
 *   split into constants and data so several images roots share one server.
 * - renderStandalone: a complete nginx.conf (plus data files when large) that
 *   runs with a read-only root filesystem.
 *
 * Design (details in the modules):
 * - data.ts: ONE map, keyed by the exact normalised request path (plus
 *   "?<last>" for lists), whose values are small typed records; anything
 *   that is not a key is never served. Map lookups are hash lookups: 10,000
 *   tags render to ~12 MB of map entries that `nginx -t` loads in ~0.15 s.
 * - maps.ts / locations.ts: constant, anchored locations per URL shape and
 *   regex maps that take the records apart; JSON errors through one
 *   internal error location.
 * - pagination.ts, referrers.ts: lists precomputed at render time.
 *
 * Known limits:
 * - `last` must be an entry of the list (else 400); from a `last` that is not
 *   on a page boundary the first pages are short (the Link leads on).
 * - Without `n`, a list longer than one nginx token (~4 KB of entries) comes
 *   in pages with a Link header (the reference registry returns all tags).
 * - The Accept header is not consulted: a manifest is always served as stored.
 * - `?artifactType=` on referrers is not applied (and not announced as applied).
 * - A referrer descriptor too long for one value (~4 KB) is listed without
 *   its annotations.
 * - Upper-case tags are regex keys, tried in order on upper-case lookups and
 *   misses: fine for dozens, slow for tens of thousands.
 * - Merged data parts (include.ts) share one catalog at most.
 */
export { renderInclude, type IncludeFiles } from "./include";
export {
  renderStandalone,
  type StandaloneOptions,
  type RenderedConfig,
  DEFAULT_MAX_FILE_BYTES,
  MAIN_FILE,
} from "./standalone";
export { DEFAULT_DATA_INCLUDE, type RenderOptions } from "./options";
export { RenderError } from "./escape";
export { PLAIN_HTTP_URI, type TlsOptions } from "./tls";
