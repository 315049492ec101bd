/**
 * The catalog page in the browser: the route in the location hash (so the
 * back button, links and reloads work), the repositories with a search box
 * over the whole catalog, and one repository's tags (tagsView.ts). `start`
 * is what the page's script calls (bundle.ts).
 */
import * as api from "./api";
import type { El, PageDocument, PageWindow } from "./browser";
import { announce, h } from "./dom";
import { PREFIX_META, filterRepositories, parseRoute, routeHash } from "./logic";
import { showRepository, type TagsViewContext } from "./tagsView";

declare const document: PageDocument;
declare const window: PageWindow;

/** Repositories listed at first, and added by each "show more". */
const LIST_STEP = 100;

interface Catalog {
  names: string[];
  done: boolean;
  error?: string;
}

const catalog: Catalog = { names: [], done: false };
/** Called when the catalog grows, to update the list if it is shown. */
let onCatalog: (() => void) | undefined;

export function start(): void {
  const main = document.getElementById("main");
  if (!main) return;
  const prefix = document.querySelector(`meta[name="${PREFIX_META}"]`)?.getAttribute("content") ?? undefined;
  const ctx: TagsViewContext = { host: window.location.host, ...(prefix !== undefined ? { prefix } : {}) };
  const host = document.getElementById("registry-host");
  if (host) host.textContent = ctx.host;

  api
    .catalog((names, done) => {
      catalog.names = names;
      catalog.done = done;
      onCatalog?.();
    })
    .catch((e: Error) => {
      catalog.error = e.message;
      catalog.done = true;
      onCatalog?.();
    });

  let shown = "";
  const render = () => {
    const route = parseRoute(window.location.hash);
    // Typing in the search box rewrites the hash with replaceState, which is no hashchange.
    const key = routeHash(route);
    if (key === shown) return;
    shown = key;
    onCatalog = undefined;
    announce("");
    if (route.view === "repositories") showRepositories(main, route.query);
    else
      showRepository(main, route, ctx).catch((e: Error) => {
        main.append(h("p", { class: "error" }, `Could not read the tags of ${route.name}: ${e.message}`));
      });
  };
  window.addEventListener("hashchange", render);
  // "/" jumps to the search box, as on many sites, unless typing somewhere already.
  window.addEventListener("keydown", (e) => {
    const typing = e.target && ["INPUT", "TEXTAREA", "SELECT"].includes(e.target.tagName);
    if (e.key !== "/" || typing || e.ctrlKey || e.metaKey || e.altKey) return;
    e.preventDefault();
    if (parseRoute(window.location.hash).view !== "repositories") window.location.hash = "#/";
    document.getElementById("search")?.focus();
  });
  render();
}

function showRepositories(main: El, query: string): void {
  const heading = h("h2", { id: "view-heading", tabindex: "-1" }, "Repositories");
  const search = h("input", {
    type: "search",
    id: "search",
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": "search-help repo-status",
  });
  search.value = query;
  const status = h("p", { class: "status", id: "repo-status" });
  const list = h("ul", { class: "repositories", "aria-labelledby": "view-heading" });
  const more = h("button", { type: "button", class: "more-button" });
  more.hidden = true;
  main.replaceChildren(
    heading,
    h(
      "div",
      { class: "search" },
      h("label", { for: "search" }, "Search repositories"),
      search,
      h(
        "p",
        { id: "search-help", class: "help" },
        "Every word must appear in the name. Press / to come back here.",
      ),
    ),
    status,
    list,
    more,
  );

  let limit = LIST_STEP;
  const update = () => {
    const q = search.value;
    const matches = filterRepositories(catalog.names, q);
    const total = catalog.names.length;
    status.textContent = catalog.error
      ? `Could not read the catalog: ${catalog.error}`
      : (q.trim() === ""
          ? `${total} repositor${total === 1 ? "y" : "ies"}`
          : `${matches.length} of ${total} repositories match “${q.trim()}”`) +
        (catalog.done ? "." : ", reading more…");
    list.replaceChildren(
      ...matches
        .slice(0, limit)
        .map((n) => h("li", {}, h("a", { href: routeHash({ view: "repository", name: n, all: false }) }, n))),
    );
    more.hidden = matches.length <= limit;
    more.textContent = `Show ${Math.min(LIST_STEP, matches.length - limit)} more of ${matches.length - limit} not shown`;
  };
  search.addEventListener("input", () => {
    limit = LIST_STEP;
    window.history.replaceState(null, "", routeHash({ view: "repositories", query: search.value }));
    update();
  });
  more.addEventListener("click", () => {
    limit += LIST_STEP;
    update();
    announce(
      `${Math.min(limit, filterRepositories(catalog.names, search.value).length)} repositories listed.`,
    );
  });
  onCatalog = update;
  update();
  (query ? search : heading).focus();
}
