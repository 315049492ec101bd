/**
 * The catalog page in the rendered configs (src/nginx/page.ts, src/ui/page.ts),
 * without nginx: which forms serve it, its file and its location, and a
 * Content-Security-Policy that allows exactly the page's own inline script
 * and stylesheet (by hash) and requests to its own origin. Real nginx and a
 * real browser: test/e2e/ui.test.ts.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import { renderInclude, renderStandalone } from "../../src/nginx";
import { renderComposeShared } from "../../src/nginx/compose";
import { PAGE_FILE } from "../../src/nginx/page";
import { bundle } from "../../src/ui/bundle";
import { PREFIX_META } from "../../src/ui/logic";
import { renderPage } from "../../src/ui/page";
import { syntheticInventory } from "./synthetic";

const STD = { listen: "127.0.0.1:5000", runtimeDir: "/run/scr", configDir: "/etc/scr" };
const sha = (s: string) => `'sha256-${createHash("sha256").update(s).digest("base64")}'`;

/** The page location's header values, by header name. */
function headersOf(server: string): Record<string, string> {
  const loc = /location = \/ \{\n([\s\S]*?)\n\s*\}/.exec(server);
  assert.ok(loc, "a location = / block");
  const out: Record<string, string> = {};
  for (const m of loc[1].matchAll(/add_header (\S+) (?:'((?:[^'\\]|\\.)*)'|(\S+)) always;/g))
    out[m[1]] = (m[2] ?? m[3]).replace(/\\(.)/g, "$1");
  return out;
}

describe("the catalog page in the config", () => {
  test("standalone: the page file beside nginx.conf, / served from it; ui: false leaves both out", () => {
    const inv = syntheticInventory({ repos: 2, tagsPerRepo: 3 });
    const on = renderStandalone(inv, STD);
    const conf = on.files["nginx.conf"];
    assert.ok(on.files[PAGE_FILE].startsWith("<!doctype html>"));
    assert.match(
      conf,
      /^ {8}location = \/ \{\n {12}root \/etc\/scr;\n {12}try_files \/static-container-registry-ui\.html =404;$/m,
    );
    assert.match(conf, /^ {12}default_type "text\/html; charset=utf-8";$/m);
    const off = renderStandalone(inv, { ...STD, ui: false });
    assert.equal(off.files[PAGE_FILE], undefined);
    assert.doesNotMatch(off.files["nginx.conf"], /location = \/ /);
    // Nothing else changes: the config without the page's location is the config with ui: false.
    assert.equal(conf.replace(/\n {8}# The catalog page[\s\S]*?\n {8}\}\n/, ""), off.files["nginx.conf"]);
  });

  test("the CSP allows exactly the inline script and stylesheet, by hash, and requests to the page's origin", () => {
    const { files } = renderStandalone(syntheticInventory({ repos: 1, tagsPerRepo: 1 }), STD);
    const html = files[PAGE_FILE];
    const h = headersOf(files["nginx.conf"]);
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
    const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]);
    assert.equal(scripts.length, 1);
    assert.equal(styles.length, 1);
    assert.doesNotMatch(
      html,
      /<script[^>]*\ssrc=|<link[^>]*stylesheet|\sstyle=|\son[a-z]+=/i,
      "nothing else runs or styles",
    );
    assert.deepEqual(h["Content-Security-Policy"].split("; "), [
      "default-src 'none'",
      `script-src ${sha(scripts[0])}`,
      `style-src ${sha(styles[0])}`,
      "connect-src 'self'",
      "img-src data:",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ]);
    assert.equal(h["X-Content-Type-Options"], "nosniff");
    assert.equal(h["Referrer-Policy"], "no-referrer");
    // Every URL in the page is the registry's own (a path) or inline (data:): nothing from elsewhere.
    for (const m of html.matchAll(/\s(?:href|src|action)="([^"]*)"/g))
      assert.match(m[1], /^(?:\/v2\/|data:)/, `URL ${m[1]}`);
    const markup = html.replace(scripts[0], "");
    assert.doesNotMatch(markup, /https?:\/\//, "no absolute URL in the page's markup or style");
  });

  test("the name prefix is told to the page when known: standalone (escaped), not the constants or a composition", () => {
    const inv = syntheticInventory({ repos: 1, tagsPerRepo: 1 });
    const meta = (html: string) =>
      new RegExp(`<meta name="${PREFIX_META}" content="([^"]*)">`).exec(html)?.[1];
    assert.equal(meta(renderStandalone(inv, STD).files[PAGE_FILE]), "");
    assert.equal(meta(renderStandalone(inv, { ...STD, namePrefix: "mirror/" }).files[PAGE_FILE]), "mirror/");
    assert.equal(meta(renderStandalone(inv, { ...STD, part: "constants" }).files[PAGE_FILE]), undefined);
    assert.equal(meta(renderComposeShared({ dir: "/etc/parts" })[PAGE_FILE]), undefined);
    assert.equal(meta(renderPage({ namePrefix: 'a"<b>&' }).html), "a&quot;&lt;b&gt;&amp;");
  });

  test("the include has no page (it knows no directory to serve it from)", () => {
    const inc = renderInclude(syntheticInventory({ repos: 1, tagsPerRepo: 1 }));
    assert.doesNotMatch(inc.server, /location = \/ /);
    assert.doesNotMatch(
      renderInclude(syntheticInventory({ repos: 1, tagsPerRepo: 1 }), { part: "constants" }).server,
      /location = \/ /,
    );
  });

  test("fits the component's smallest ConfigMap, and is the same bytes every time", () => {
    const inv = syntheticInventory({ repos: 1, tagsPerRepo: 1 });
    // maxConfigMapBytes is at least 65536, less 256 for the key (src/kubernetes/plan.ts).
    const files = renderStandalone(inv, { ...STD, maxFileBytes: 65536 - 256 }).files;
    assert.ok(files[PAGE_FILE]);
    assert.equal(renderPage({ namePrefix: "x/" }).html, renderPage({ namePrefix: "x/" }).html);
  });

  test("the script compiled from the TypeScript sources (ts-node) is byte for byte the one from dist", () => {
    const dist = path.resolve(__dirname, "..", "..", "src");
    const sources = path.resolve(__dirname, "..", "..", "..", "src");
    assert.ok(!fs.existsSync(path.join(sources, "ui", "app.js")), "the sources hold no compiled module");
    assert.equal(bundle(sources, "ui/app"), bundle(dist, "ui/app"));
  });

  test("the script bundles our modules only: a package or node module is refused, naming who wants it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scr-bundle-"));
    try {
      fs.mkdirSync(path.join(dir, "ui"));
      fs.writeFileSync(path.join(dir, "ui", "a.js"), 'const b = require("./b");\nexports.x = b.y;\n');
      fs.writeFileSync(path.join(dir, "ui", "b.js"), 'const fs = require("node:fs");\nexports.y = 1;\n');
      assert.throws(() => bundle(dir, "ui/a"), /cannot use "node:fs" \(required by ui\/b\)/);
      fs.writeFileSync(path.join(dir, "ui", "b.js"), 'exports.y = "</script>";\n');
      assert.throws(() => bundle(dir, "ui/a"), /<\/script/);
      fs.writeFileSync(path.join(dir, "ui", "b.js"), "exports.y = 41 + 1;\n");
      assert.equal((new Function(`return ${bundle(dir, "ui/a")};`)() as { x: number }).x, 42);
      assert.throws(() => bundle(dir, "ui/missing"), /needs .*missing\.js/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
