/**
 * The catalog page (src/ui) in a config: its HTML file beside the config, and
 * the one location that answers `/` with it and its Content-Security-Policy.
 * Plain nginx serving a file (HEAD and conditional GET included); the server's
 * GET/HEAD-only rule applies as everywhere, and nothing under /v2/ changes.
 * The page reads the API from the browser: its only data is the name prefix.
 */
import { renderPage } from "../ui/page";
import { literal, token } from "./escape";

/** The page's file name, in the config dir. */
export const PAGE_FILE = "static-container-registry-ui.html";

export interface CatalogPage {
  /** File name (in `dir`) → content. */
  files: Record<string, string>;
  /** Server-context text: the `location = /` that serves it. */
  server: string;
}

/**
 * The page for a config whose files nginx reads from `dir` (absolute, checked
 * by the caller). `namePrefix`: the registry's, or undefined when unknown
 * (several roots, each with its own).
 */
export function catalogPage(dir: string, namePrefix: string | undefined): CatalogPage {
  const page = renderPage(namePrefix !== undefined ? { namePrefix } : {});
  return {
    files: { [PAGE_FILE]: page.html },
    server: `
# The catalog page (src/ui): / is ${PAGE_FILE} beside this config, which reads
# this registry's API from the browser. Same origin only, by its CSP.
location = / {
    root ${token(dir)};
    try_files /${PAGE_FILE} =404;
    types {}
    default_type "text/html; charset=utf-8";
    add_header Content-Security-Policy ${literal(page.contentSecurityPolicy)} always;
    add_header X-Content-Type-Options nosniff always;
    add_header Referrer-Policy no-referrer always;
    add_header Cache-Control no-cache always;
}
`,
  };
}
