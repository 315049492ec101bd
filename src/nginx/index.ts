/**
 * render: Inventory (+ options) → nginx config text. Pure and deterministic:
 * the same Inventory and options always give byte-identical output.
 *
 * - renderInclude: http-context maps + server-context locations, for an
 *   nginx config someone else owns (the old generator's output), optionally
 *   split into constants and data so several images roots share one server.
 * - renderStandalone: a complete nginx.conf (plus data files when large) that
 *   runs with a read-only root filesystem.
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
