/**
 * The catalog page: one HTML document with its stylesheet and script inline,
 * and the Content-Security-Policy that allows exactly those two (by their
 * sha256) plus requests to the page's own origin — nothing from elsewhere,
 * for an air gap and against anything a registry answer might smuggle in.
 * The page reads the registry's own API, so it needs no data of its own;
 * the config may tell it the registry's name prefix (for the original names
 * of host-prefixed trees).
 *
 * Deterministic: the same options give the same bytes (the script is our
 * compiled modules, read once; bundle.ts).
 */
import { createHash } from "node:crypto";
import * as path from "node:path";
import { bundle } from "./bundle";
import { PREFIX_META } from "./logic";
import { STYLE } from "./style";

export interface PageOptions {
  /**
   * The name prefix every repository is served under ("" for none), or
   * undefined when the page cannot know it (several images roots in one
   * server, each with its own): the page then takes the first host-like
   * component of a name for the start of its original name.
   */
  namePrefix?: string;
}

export interface Page {
  html: string;
  /** The header value to send with it. */
  contentSecurityPolicy: string;
}

let script: string | undefined;

/** The page's script: app.ts and what it imports, compiled, from dist/src. */
export function pageScript(): string {
  script ??= `${bundle(path.join(__dirname, ".."), "ui/app")}.start();\n`;
  return script;
}

/**
 * The tab's icon, inline: without one the browser asks for /favicon.ico,
 * which the registry answers 404 (and the browser's console reports).
 */
const ICON =
  "data:image/svg+xml," +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">' +
      '<rect x="1.5" y="3.5" width="13" height="10" rx="1" fill="#4a6fa5" stroke="#1b1b1f"/>' +
      '<path d="M1.5 6.5h13M5.5 3.5v10M10.5 3.5v10" stroke="#1b1b1f"/></svg>',
  );

const hash = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

/** `&`, `<`, `>` and `"` as HTML entities, for text and attribute values. */
function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

export function renderPage(o: PageOptions = {}): Page {
  const js = pageScript();
  const css = STYLE;
  const meta =
    o.namePrefix !== undefined ? `\n<meta name="${PREFIX_META}" content="${escapeHtml(o.namePrefix)}">` : "";
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">${meta}
<title>Container images</title>
<link rel="icon" href="${ICON}">
<style>${css}</style>
</head>
<body>
<header class="top">
<h1>Container images on <span id="registry-host">this registry</span></h1>
<p>A read-only registry: every image, tag, platform and signature it serves, read from its own API at <a href="/v2/_catalog">/v2/</a>.</p>
</header>
<main id="main">
<noscript><p>This page reads the registry's API with JavaScript. Without it, the list of repositories is at <a href="/v2/_catalog">/v2/_catalog</a>.</p></noscript>
</main>
<p id="announce" role="status" aria-live="polite"></p>
<script>${js}</script>
</body>
</html>
`;
  const contentSecurityPolicy = [
    "default-src 'none'",
    `script-src ${hash(js)}`,
    `style-src ${hash(css)}`,
    "connect-src 'self'",
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
  return { html, contentSecurityPolicy };
}
