/**
 * The catalog page in a real browser: Debian's Chromium, headless, driven by
 * puppeteer-core (no browser download), against `serve` (real nginx) on the
 * fixture tree plus a repository of 1,000 tags, a cosign signature tag and a
 * host-prefixed copy, all under the name prefix `mirror/`. The test does what
 * a user does — searches, opens, reads digests and platforms, pages, copies —
 * and compares what the page shows with what the registry serves. Throughout:
 * no request leaves the registry's origin, and the browser reports no console
 * error, no page error and no Content-Security-Policy violation. Screenshots
 * go to the test's temp dir (or $SCR_UI_SCREENSHOTS).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, test, type TestContext } from "node:test";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { BlobStore, MediaType, writeDirTag } from "../../src/demo/oci";
import { writeSyntheticTree } from "../kubernetes/synthetic";
import { requireTool } from "../support/tools";
import { formatSize, totalSize, type ManifestDoc } from "../../src/ui/logic";
import {
  buildFixtures,
  errorCodes,
  once,
  rawRequest,
  request,
  scratch,
  startRegistry,
  stopAll,
  tools,
  type Registry,
} from "./harness";

after(stopAll);

// The browser's globals as the callbacks run inside the page use them (the
// project compiles without TypeScript's DOM library; see src/ui/browser.ts).
interface PageNode {
  readonly id: string;
  scrollIntoView(): void;
  readonly textContent: string | null;
  hasAttribute(name: string): boolean;
  setAttribute(name: string, value: string): void;
}
declare const document: {
  readonly activeElement: PageNode | null;
  readonly documentElement: PageNode;
  querySelector(selector: string): PageNode | null;
  addEventListener(
    type: "securitypolicyviolation",
    listener: (e: { violatedDirective: string; blockedURI: string }) => void,
  ): void;
};
declare const window: { location: { hash: string }; scrCspViolation: (v: string) => void };
declare const navigator: { clipboard: { readText(): Promise<string> } };
declare function getComputedStyle(e: PageNode): { outlineStyle: string; backgroundColor: string };

const PREFIX = "mirror/";
const fixtures = once(buildFixtures);
const MANY = 1000;
const REPOS = 1100;

/** A cosign-style signature of `digest` (simple-signing payload, one layer) as the tag `sha256-<hex>.sig`. */
function addCosignSignature(repoDir: string, digest: string): void {
  const store = new BlobStore();
  const payload = store.add(
    Buffer.from(
      JSON.stringify({
        critical: {
          identity: { "docker-reference": "registry.invalid/busybox" },
          image: { "docker-manifest-digest": digest },
          type: "cosign container image signature",
        },
        optional: null,
      }),
    ),
    "application/vnd.dev.cosign.simplesigning.v1+json",
  );
  const config = store.add(
    Buffer.from(
      JSON.stringify({ architecture: "", os: "", rootfs: { type: "layers", diff_ids: [payload.digest] } }),
    ),
    MediaType.ociConfig,
  );
  const manifest = store.addJson(
    {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config,
      layers: [{ ...payload, annotations: { "dev.cosignproject.cosign/signature": "MEUCIQDfixture" } }],
    },
    MediaType.ociManifest,
  );
  writeDirTag(path.join(repoDir, `sha256-${digest.slice(7)}.sig`), store, manifest);
}

interface Watch {
  urls: string[];
  outside: string[];
  methods: Set<string>;
  problems: string[];
}

/** Everything the page asks for and everything the browser complains about. */
function watch(page: Page, origin: string): Watch {
  const w: Watch = { urls: [], outside: [], methods: new Set(), problems: [] };
  page.on("request", (r) => {
    w.urls.push(r.url());
    if (!r.url().startsWith(`${origin}/`) && !r.url().startsWith("data:")) w.outside.push(r.url());
    w.methods.add(r.method());
  });
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warn") w.problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => w.problems.push(`page error: ${(e as Error).message}`));
  page.on("response", (r) => {
    if (r.status() >= 400) w.problems.push(`HTTP ${r.status()} for ${r.url()}`);
  });
  return w;
}

async function launch(t: TestContext, chromium: string): Promise<Browser> {
  const profile = scratch("e2e-ui-profile");
  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    userDataDir: profile,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${profile}`,
    ],
  });
  t.after(() => browser.close());
  return browser;
}

/** Waits until every tag item of the page is filled in (or failed), and returns the tags listed. */
async function tagsShown(page: Page): Promise<string[]> {
  await page.waitForFunction(
    () =>
      document.querySelector("#tags-status")?.textContent !== "Reading tags…" &&
      !document.querySelector("li.tag .loading"),
    { timeout: 60_000 },
  );
  return page.$$eval("li.tag", (els) => els.map((e) => e.getAttribute("data-tag") ?? ""));
}

/**
 * Runs `action` (a click, a key, a new hash) and waits for the view it leads
 * to: the old view's status line is marked first, so a view still showing
 * from before never passes for the new one.
 */
async function changeView(page: Page, action: () => Promise<unknown>): Promise<void> {
  await page.evaluate(() => document.querySelector(".status")?.setAttribute("data-old", ""));
  await action();
  await page.waitForFunction(() => {
    const s = document.querySelector(".status");
    return s !== null && !s.hasAttribute("data-old");
  });
}

/** Opens a route by its hash, as a link or the address bar would. */
const open = (page: Page, hash: string) =>
  changeView(page, () =>
    page.evaluate((h) => {
      window.location.hash = h;
    }, hash),
  );

const text = (page: Page, selector: string) => page.$eval(selector, (e) => (e.textContent ?? "").trim());

test("the catalog page in Chromium: search, tags, digests, platforms, paging, copying; nothing from elsewhere", async (t) => {
  if (!tools(t, "nginx", "skopeo")) return;
  const chromium = requireTool(t, "chromium");
  if (!chromium) return;

  const fx = await fixtures();
  writeSyntheticTree(fx.root, { repos: 1, tagsPerRepo: MANY, repoName: () => "many/tags" });
  // More repositories than one page of the catalog the page reads (1,000 a request).
  writeSyntheticTree(fx.root, { repos: REPOS, tagsPerRepo: 1 });
  const busybox = fx.images.find((i) => i.reference === "busybox:1.36")!;
  addCosignSignature(path.join(fx.root, "busybox"), busybox.digest);
  // The same image under its upstream host, as `mirror` lays it out.
  fs.cpSync(path.join(fx.root, "busybox"), path.join(fx.root, "docker.io", "library", "busybox"), {
    recursive: true,
  });
  const reg: Registry = await startRegistry(fx.root, ["--name-prefix", PREFIX]);
  const origin = `http://${reg.host}`;
  const api = async <T>(p: string) => JSON.parse((await request(reg.port, "GET", p)).body.toString()) as T;
  const shots = process.env.SCR_UI_SCREENSHOTS ?? path.join(scratch("e2e-ui"), "screenshots");
  fs.mkdirSync(shots, { recursive: true });
  t.diagnostic(`screenshots: ${shots}`);

  const browser = await launch(t, chromium);
  const context = browser.defaultBrowserContext();
  await context.setPermission(
    origin,
    { permission: { name: "clipboard-read" }, state: "granted" },
    { permission: { name: "clipboard-write" }, state: "granted" },
  );
  const page = await browser.newPage();
  await page.setViewport({ width: 1100, height: 900 });
  const w = watch(page, origin);
  const csp: string[] = [];
  await page.exposeFunction("scrCspViolation", (v: string) => csp.push(v));
  await page.evaluateOnNewDocument(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      window.scrCspViolation(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });

  await t.test(
    "the repositories: the whole catalog, paged through _catalog, 100 listed at a time",
    async () => {
      await page.goto(`${origin}/`, { waitUntil: "networkidle0" });
      await page.waitForFunction(() =>
        /repositories\.$/.test(document.querySelector("#repo-status")?.textContent ?? ""),
      );
      const catalog = (await api<{ repositories: string[] }>("/v2/_catalog")).repositories;
      assert.ok(catalog.length > REPOS && catalog.includes(`${PREFIX}many/tags`));
      assert.ok(
        w.urls.some((u) => u.includes("/v2/_catalog?n=1000&last=")),
        "the catalog's second page was read",
      );
      assert.equal(await text(page, "#repo-status"), `${catalog.length} repositories.`);
      const listed = () => page.$$eval("ul.repositories a", (as) => as.map((a) => a.textContent));
      assert.deepEqual(await listed(), catalog.slice(0, 100));
      await page.click("button.more-button");
      assert.deepEqual(await listed(), catalog.slice(0, 200));
      assert.equal(await text(page, "#registry-host"), reg.host);
      // A name from the catalog's second page is found.
      const late = catalog[catalog.length - 1];
      await page.type("#search", late);
      assert.deepEqual(await listed(), [late]);
      assert.match(
        await page.evaluate(() => window.location.hash),
        /^#\/\?q=/,
        "the search is in the address",
      );
      // Loaded afresh: no search, the focus on the page.
      await page.goto(`${origin}/`, { waitUntil: "networkidle0" });
      await page.waitForFunction(() =>
        /repositories\.$/.test(document.querySelector("#repo-status")?.textContent ?? ""),
      );
    },
  );

  await t.test("found by search and opened with the keyboard alone", async () => {
    // "/" focuses the search box; the first match is one Tab away (past the help text, which is not focusable).
    await page.keyboard.press("/");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "search");
    await page.keyboard.type("oci index");
    assert.deepEqual(await page.$$eval("ul.repositories a", (as) => as.map((a) => a.textContent)), [
      `${PREFIX}multi/oci-index`,
    ]);
    assert.match(await text(page, "#repo-status"), /^1 of \d+ repositories match “oci index”\.$/);
    await page.screenshot({ path: path.join(shots, "search.png") });
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => ({
      text: document.activeElement?.textContent,
      outline: getComputedStyle(document.activeElement!).outlineStyle,
    }));
    assert.deepEqual(focused, { text: `${PREFIX}multi/oci-index`, outline: "solid" }, "visible focus");
    await changeView(page, () => page.keyboard.press("Enter"));
    assert.equal(await text(page, "h2"), `${PREFIX}multi/oci-index`);
  });

  await t.test("a tag's digest and an index's platforms, as the registry serves them", async () => {
    await tagsShown(page);
    const name = `${PREFIX}multi/oci-index`;
    const head = await request(reg.port, "HEAD", `/v2/${name}/manifests/1.0`);
    const item = 'li.tag[data-tag="1.0"]';
    assert.equal(await text(page, `${item} dd.digest`), head.headers["docker-content-digest"]);
    assert.equal(await text(page, `${item} dd.kind`), "multi-platform index (OCI)");
    // The platforms with each platform manifest's digest and size (its manifest, config and layers).
    await page.click(`${item} summary`);
    const rows = await page.$$eval(`${item} tr.platform`, (trs) =>
      trs.map((tr) => [...tr.querySelectorAll("th, td")].map((c) => (c.textContent ?? "").trim())),
    );
    const index = await api<ManifestDoc>(`/v2/${name}/manifests/1.0`);
    const want = [];
    for (const d of index.manifests ?? []) {
      const child = await request(reg.port, "GET", `/v2/${name}/manifests/${d.digest}`);
      const doc = JSON.parse(child.body.toString()) as ManifestDoc;
      want.push([
        `${d.platform?.os}/${d.platform?.architecture}`,
        d.digest,
        formatSize(totalSize([{ size: child.body.length, doc }])),
      ]);
    }
    assert.equal(want.length, 2);
    assert.deepEqual(rows, want);
    assert.equal(await text(page, `${item} dd.platforms`), want.map((r) => r[0]).join(", "));
    await page.screenshot({ path: path.join(shots, "index.png"), fullPage: true });
    // A small one, as the README shows it.
    await page.setViewport({ width: 860, height: 760 });
    await page.evaluate(() => document.querySelector("h2")?.scrollIntoView());
    await page.screenshot({ path: path.join(shots, "catalog-page.png") });
    await page.setViewport({ width: 1100, height: 900 });
  });

  await t.test(
    "copying a pull command by digest: on the clipboard, and said in the status line",
    async () => {
      const name = `${PREFIX}multi/oci-index`;
      const digest = await text(page, 'li.tag[data-tag="1.0"] dd.digest');
      const want = `docker pull ${reg.host}/${name}@${digest}`;
      const button = await page.$(
        'li.tag[data-tag="1.0"] button[aria-label="Copy the pull command by digest"]',
      );
      assert.ok(button, "a Copy button for the pull by digest");
      await button.focus();
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => (document.querySelector("#announce")?.textContent ?? "") !== "");
      assert.equal(await text(page, "#announce"), `Copied to the clipboard: ${want}`);
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), want);
    },
  );

  await t.test(
    "signatures and SBOMs counted on their images, cosign's tags kept out of the list",
    async () => {
      await open(page, `#/r/${PREFIX}busybox`);
      assert.deepEqual(await tagsShown(page), ["1.36"], "the .sig tag is not listed");
      const tags = (await api<{ tags: string[] }>(`/v2/${PREFIX}busybox/tags/list`)).tags;
      assert.deepEqual(tags, ["1.36", `sha256-${busybox.digest.slice(7)}.sig`]);
      assert.equal(await text(page, 'li.tag[data-tag="1.36"] dd.provenance'), "1 signature");
      assert.match(
        await text(page, "#tags-status"),
        /\(1 cosign tag not listed: counted on the images they refer to\)/,
      );
      // Asked for, it is listed, as what it is.
      await changeView(page, () => page.click("#show-all"));
      assert.deepEqual(await tagsShown(page), tags);
      assert.equal(await text(page, `li.tag[data-tag="${tags[1]}"] dd.kind`), "signature");

      await open(page, `#/r/${PREFIX}oci/app`);
      assert.deepEqual(await tagsShown(page), ["1.0", "sbom"]);
      assert.equal(
        await text(page, 'li.tag[data-tag="1.0"] dd.provenance'),
        "1 SBOM",
        "from the referrers API",
      );
      const app = fx.images.find((i) => i.reference === "oci/app:1.0")!;
      assert.equal(await text(page, 'li.tag[data-tag="sbom"] dd.subject'), app.digest);
      assert.equal(await text(page, 'li.tag[data-tag="sbom"] dd.kind'), "SBOM");
    },
  );

  await t.test(
    "pull commands with the name prefix, and the original name of a host-prefixed tree",
    async () => {
      await open(page, `#/r/${PREFIX}docker.io/library/busybox`);
      await tagsShown(page);
      const item = 'li.tag[data-tag="1.36"]';
      await page.click(`${item} summary`);
      const commands = await page.$$eval(`${item} ul.pulls code`, (cs) => cs.map((c) => c.textContent));
      assert.deepEqual(commands, [
        `docker pull ${reg.host}/${PREFIX}docker.io/library/busybox:1.36`,
        `docker pull ${reg.host}/${PREFIX}docker.io/library/busybox@${busybox.digest}`,
        "crictl pull docker.io/library/busybox:1.36",
        `crictl pull docker.io/library/busybox@${busybox.digest}`,
      ]);
    },
  );

  await t.test(
    "1,000 tags: page by page through the tag list API, forward, back, and to the end",
    async () => {
      const name = `${PREFIX}many/tags`;
      const apiPage = async (last?: string) =>
        (await api<{ tags: string[] }>(`/v2/${name}/tags/list?n=50${last ? `&last=${last}` : ""}`)).tags;
      await open(page, `#/r/${name}`);
      const pages = [await tagsShown(page)];
      assert.deepEqual(pages[0], await apiPage());
      await page.screenshot({ path: path.join(shots, "many-tags.png") });
      for (let i = 1; i <= 3; i++) {
        await changeView(page, () => page.click('nav.pager a[rel="next"]'));
        pages.push(await tagsShown(page));
        assert.deepEqual(pages[i], await apiPage(pages[i - 1][49]), `page ${i + 1}`);
      }
      await changeView(page, () => page.click('nav.pager a[rel="prev"]'));
      assert.deepEqual(await tagsShown(page), pages[2], "back to page 3");
      await changeView(page, () => page.click('nav.pager a[rel="prev"]'));
      assert.deepEqual(await tagsShown(page), pages[1], "back to page 2");
      // The end: a link to the page after the last but nine has the last nine and no next page.
      const all = (await api<{ tags: string[] }>(`/v2/${name}/tags/list`)).tags;
      assert.equal(all.length, MANY);
      await open(page, `#/r/${name}?after=${all[MANY - 10]}`);
      assert.deepEqual(await tagsShown(page), all.slice(MANY - 9));
      assert.equal(await page.$('nav.pager a[rel="next"]'), null);
      assert.equal(await text(page, "#tags-status"), `9 tags after ${all[MANY - 10]}.`);
    },
  );

  await t.test("dark mode, and nothing from elsewhere, no console error, no CSP violation", async () => {
    await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "dark" }]);
    await open(page, `#/r/${PREFIX}multi/docker-list`);
    await tagsShown(page);
    await page.click('li.tag[data-tag="1.0"] summary');
    const bg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    assert.notEqual(bg, "rgb(255, 255, 255)", "a dark background");
    await page.screenshot({ path: path.join(shots, "dark.png"), fullPage: true });
    assert.deepEqual(w.outside, [], "requests outside the registry's origin");
    assert.deepEqual([...w.methods], ["GET"], "the page only reads");
    assert.deepEqual(w.problems, [], "console errors and warnings, page errors, failed requests");
    assert.deepEqual(csp, [], "Content-Security-Policy violations");
  });
});

test("serve --no-ui: / is a JSON 404 like any path outside /v2/, GET and HEAD", async (t) => {
  if (!tools(t, "nginx", "skopeo")) return;
  const fx = await fixtures();
  const reg = await startRegistry(fx.root, ["--no-ui"]);
  for (const method of ["GET", "HEAD"]) {
    const r = await rawRequest(reg.port, method, "/");
    assert.equal(r.status, 404, `${method} /`);
    assert.equal(r.headers["content-security-policy"], undefined);
    if (method === "GET") assert.deepEqual(errorCodes(r.body), ["NOT_FOUND"]);
  }
  assert.equal((await request(reg.port, "GET", "/v2/")).status, 200);
});
