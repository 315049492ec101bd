/**
 * The page's stylesheet, inlined in the page and allowed by its hash in the
 * Content-Security-Policy. Light and dark follow the system's choice; nothing
 * is told by colour alone (every kind and count is a word, links are
 * underlined); focus is always visible.
 */
export const STYLE = `
:root {
  color-scheme: light dark;
  --bg: #ffffff;
  --fg: #1b1b1f;
  --muted: #55565f;
  --line: #c9cad3;
  --card: #f5f6fa;
  --link: #0b57c2;
  --focus: #b3470c;
  --code: #eceef4;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #16171c;
    --fg: #e8e8ee;
    --muted: #a9aab5;
    --line: #454754;
    --card: #1f2028;
    --link: #8ab4ff;
    --focus: #ffb37a;
    --code: #2a2c36;
  }
}
* { box-sizing: border-box; }
html { background: var(--bg); color: var(--fg); }
body {
  margin: 0 auto;
  max-width: 72rem;
  padding: 0 1rem 4rem;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
header.top { border-bottom: 1px solid var(--line); padding: 1rem 0 0.5rem; }
header.top h1 { font-size: 1.4rem; margin: 0; }
header.top p { margin: 0.25rem 0 0; color: var(--muted); }
a { color: var(--link); text-decoration: underline; }
a:focus-visible, button:focus-visible, input:focus-visible, summary:focus-visible, [tabindex]:focus-visible {
  outline: 3px solid var(--focus);
  outline-offset: 2px;
}
h2:focus { outline: none; }
h2 { font-size: 1.3rem; margin: 1.25rem 0 0.5rem; word-break: break-all; }
h3 { font-size: 1.1rem; margin: 0 0 0.25rem; word-break: break-all; }
h4 { font-size: 1rem; margin: 0.75rem 0 0.25rem; }
code {
  font: 0.9em/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  background: var(--code);
  padding: 0.05em 0.3em;
  border-radius: 3px;
  overflow-wrap: anywhere;
}
.search label { display: block; font-weight: 600; }
.search input {
  width: 100%;
  max-width: 36rem;
  font: inherit;
  padding: 0.4rem 0.6rem;
  border: 2px solid var(--muted);
  border-radius: 4px;
  background: var(--bg);
  color: var(--fg);
}
.help, .status, .media-type { color: var(--muted); }
.help { margin: 0.25rem 0; font-size: 0.9rem; }
ul.repositories { padding-left: 1.25rem; columns: 20rem auto; }
ul.repositories li { break-inside: avoid; overflow-wrap: anywhere; }
button {
  font: inherit;
  padding: 0.2rem 0.7rem;
  border: 2px solid var(--muted);
  border-radius: 4px;
  background: var(--card);
  color: var(--fg);
  cursor: pointer;
}
button:hover { border-color: var(--fg); }
ol.tags { list-style: none; padding: 0; }
li.tag {
  border: 1px solid var(--line);
  border-radius: 6px;
  background: var(--card);
  padding: 0.75rem 1rem;
  margin: 0 0 0.75rem;
}
dl.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr)); gap: 0.25rem 1rem; margin: 0; }
dl.facts div:first-child { grid-column: 1 / -1; }
dl.facts dt, dl.labels dt { color: var(--muted); font-size: 0.85rem; }
dl.facts dd, dl.labels dd { margin: 0; overflow-wrap: anywhere; }
dl.labels div { margin-bottom: 0.25rem; }
details.more { margin-top: 0.5rem; }
details.more summary { cursor: pointer; width: fit-content; }
ul.pulls { list-style: none; padding: 0; margin: 0; }
ul.pulls li { margin: 0.25rem 0; }
.pull-label { color: var(--muted); }
table { border-collapse: collapse; margin: 0.75rem 0; width: 100%; }
caption { text-align: left; font-weight: 600; margin-bottom: 0.25rem; }
td.platform-size, dd.size { white-space: nowrap; }
th, td { text-align: left; padding: 0.25rem 0.75rem 0.25rem 0; border-bottom: 1px solid var(--line); vertical-align: top; }
nav.crumbs { margin-top: 1rem; }
nav.pager { display: flex; gap: 1.5rem; margin: 1rem 0; }
.error { font-weight: 600; }
.error::before { content: "Error: "; }
.offscreen { position: fixed; left: -10000px; top: 0; width: 1px; height: 1px; }
.option { margin: 0.5rem 0; }
#announce {
  position: fixed;
  bottom: 0;
  left: 0;
  right: 0;
  margin: 0;
  padding: 0.4rem 1rem;
  background: var(--card);
  border-top: 1px solid var(--line);
  overflow-wrap: anywhere;
}
#announce:empty { display: none; }
@media (prefers-reduced-motion: reduce) { * { scroll-behavior: auto; } }
`;
