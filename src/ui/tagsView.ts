/**
 * One repository's tags, a page at a time through the tag list API (`n` and
 * `last`), so 10,000 tags cost what 50 do. cosign's signature, attestation
 * and SBOM tags are counted on the tags they refer to and hidden from the
 * list unless asked for. Each tag's facts fill in as they are read.
 */
import * as api from "./api";
import { describeTag, type TagInfo } from "./describe";
import { copyText, h } from "./dom";
import type { El, PageWindow } from "./browser";
import {
  countsText,
  formatSize,
  kindLabel,
  pullCommands,
  routeHash,
  tagsStatus,
  visibleTags,
  type Route,
} from "./logic";

declare const window: PageWindow;

/** Tags shown per page. */
export const PAGE_SIZE = 50;

/**
 * The way back, learnt while paging forward: by the tag a page ends with
 * (the next page's start), the start of that page (undefined: the first).
 */
const previous = new Map<string, string | undefined>();
const pageKey = (name: string, all: boolean, start: string) => `${all ? "all" : "images"}\n${name}\n${start}`;

export interface TagsViewContext {
  host: string;
  /** The registry's name prefix, when the page was told it. */
  prefix?: string;
}

/** Renders `route` (a repository) into `main`. */
export async function showRepository(
  main: El,
  route: Extract<Route, { view: "repository" }>,
  ctx: TagsViewContext,
): Promise<void> {
  const { name, after, all } = route;
  const heading = h("h2", { id: "view-heading", tabindex: "-1" }, name);
  const status = h("p", { class: "status", id: "tags-status" }, "Reading tags…");
  const list = h("ol", { class: "tags", "aria-labelledby": "view-heading" });
  const toggle = h("input", { type: "checkbox", id: "show-all" });
  toggle.checked = all;
  toggle.addEventListener("change", () => {
    window.location.hash = routeHash({ view: "repository", name, all: toggle.checked });
  });
  const pager = h("nav", { class: "pager", "aria-label": "Pages of tags" });
  main.replaceChildren(
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/" }, "All repositories")),
    heading,
    h(
      "p",
      { class: "option" },
      toggle,
      " ",
      h("label", { for: "show-all" }, "Also list cosign's signature, attestation and SBOM tags"),
    ),
    status,
    list,
    pager,
  );
  heading.focus();

  // The page's tags: a request of twice the page, more only while hidden tags
  // crowd it out (in bigger requests while a request finds nothing to show).
  const shown: string[] = [];
  let hidden = 0;
  let cursor = after;
  let more = true;
  let chunk = PAGE_SIZE * 2;
  while (shown.length < PAGE_SIZE && more) {
    const p = await api.tags(name, chunk, cursor);
    const v = visibleTags(p.tags, PAGE_SIZE - shown.length, all);
    if (v.tags.length === 0) chunk = Math.min(chunk * 4, api.LIST_CHUNK);
    shown.push(...v.tags);
    hidden += v.hidden;
    if (v.cursor !== undefined) cursor = v.cursor;
    more = p.more || v.rest > 0;
    if (p.tags.length === 0) more = false;
  }
  if (shown.length && cursor !== undefined) previous.set(pageKey(name, all, cursor), after);

  status.textContent = tagsStatus(shown.length, after, more, hidden);
  list.replaceChildren(...shown.map((t) => tagItem(name, t, ctx)));

  const links: El[] = [];
  if (after !== undefined) {
    links.push(h("a", { href: routeHash({ view: "repository", name, all }) }, "First page"));
    const key = pageKey(name, all, after);
    if (previous.has(key)) {
      const back = previous.get(key);
      links.push(
        h(
          "a",
          {
            href: routeHash({
              view: "repository",
              name,
              all,
              ...(back !== undefined ? { after: back } : {}),
            }),
            rel: "prev",
          },
          "Previous page",
        ),
      );
    }
  }
  if (more && cursor !== undefined)
    links.push(
      h("a", { href: routeHash({ view: "repository", name, all, after: cursor }), rel: "next" }, "Next page"),
    );
  pager.replaceChildren(...links);
}

/** A tag's item: its name at once, its facts when they are read. */
function tagItem(name: string, tag: string, ctx: TagsViewContext): El {
  const body = h("p", { class: "loading" }, "Reading…");
  const item = h("li", { class: "tag", "data-tag": tag }, h("h3", { class: "tag-name" }, tag), body);
  describeTag(name, tag).then(
    (info) => {
      item.dataset.digest = info.digest;
      body.replaceWith(...tagDetails(name, info, ctx));
    },
    (e: Error) => {
      body.className = "error";
      body.textContent = `Could not read this tag: ${e.message}`;
    },
  );
  return item;
}

const fact = (term: string, cls: string, ...value: (El | string)[]) =>
  h("div", {}, h("dt", {}, term), h("dd", { class: cls }, ...value));

function tagDetails(name: string, t: TagInfo, ctx: TagsViewContext): El[] {
  const kind = kindLabel(t.kind, t.mediaType, t.type);
  const facts = h(
    "dl",
    { class: "facts" },
    fact("Digest", "digest", h("code", {}, t.digest)),
    fact("Kind", "kind", kind),
    t.platforms.length
      ? fact(
          t.platforms.length === 1 ? "Platform" : "Platforms",
          "platforms",
          t.platforms.map((p) => p.platform).join(", "),
        )
      : undefined,
    fact("Size", "size", formatSize(t.totalSize)),
    t.created ? fact("Created", "created", t.created) : undefined,
    fact("Signatures, attestations, SBOMs", "provenance", countsText(t.counts)),
    t.subject ? fact("Refers to", "subject", h("code", {}, t.subject)) : undefined,
  );

  const commands = pullCommands({ host: ctx.host, name, tag: t.tag, digest: t.digest, prefix: ctx.prefix });
  const pulls = h(
    "ul",
    { class: "pulls" },
    ...commands.map((c) => {
      const button = h("button", { type: "button", class: "copy" }, "Copy");
      button.setAttribute("aria-label", `Copy the pull command ${c.label}`);
      button.addEventListener("click", () => void copyText(c.command));
      return h(
        "li",
        {},
        h("span", { class: "pull-label" }, `${c.label}: `),
        h("code", {}, c.command),
        " ",
        button,
      );
    }),
  );

  const platformRows = t.platforms.map((p) =>
    h(
      "tr",
      { class: "platform", "data-platform": p.platform },
      h("th", { scope: "row" }, p.platform),
      h("td", { class: "platform-digest" }, h("code", {}, p.digest)),
      h("td", { class: "platform-size" }, formatSize(p.size)),
    ),
  );
  const labels = Object.entries(t.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const details = h(
    "details",
    { class: "more" },
    h("summary", {}, "Pull commands, platforms, labels"),
    h("h4", {}, "Pull"),
    pulls,
    t.kind === "index" && platformRows.length
      ? h(
          "table",
          { class: "platforms-table" },
          h("caption", {}, "Platforms"),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", { scope: "col" }, "Platform"),
              h("th", { scope: "col" }, "Digest"),
              h("th", { scope: "col" }, "Size"),
            ),
          ),
          h("tbody", {}, ...platformRows),
        )
      : undefined,
    labels.length
      ? h(
          "div",
          {},
          h("h4", {}, t.kind === "index" ? `Labels (of ${t.platforms[0]?.platform})` : "Labels"),
          h(
            "dl",
            { class: "labels" },
            ...labels.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v))),
          ),
        )
      : undefined,
    t.referredBy.length
      ? h(
          "div",
          {},
          h("h4", {}, "Referred to by"),
          h(
            "ul",
            { class: "referrers" },
            ...t.referredBy.map((r) => h("li", {}, h("code", {}, r.what), ` (${r.kind})`)),
          ),
        )
      : undefined,
    h("p", { class: "media-type" }, `Media type ${t.mediaType}, manifest ${formatSize(t.manifestSize)}.`),
  );
  return [facts, details];
}
