/**
 * Building the page's elements, announcing what happened, and copying text.
 * Text always goes in as text nodes (`append` of a string), never as HTML:
 * names, tags and labels come from the registry's answers.
 */
import type { El, PageDocument, PageNavigator, PageWindow } from "./browser";

declare const document: PageDocument;
declare const window: PageWindow;
declare const navigator: PageNavigator;

export type Child = El | string | undefined | false;

/** An element with attributes (`class` for className) and children; undefined and false children are left out. */
export function h(tag: string, attrs: Record<string, string | undefined> = {}, ...children: Child[]): El {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined) continue;
    if (k === "class") el.className = v;
    else el.setAttribute(k, v);
  }
  for (const c of children) if (c !== undefined && c !== false) el.append(c);
  return el;
}

/** How long a message stays in the status line. */
const ANNOUNCE_MS = 10_000;
let clearing: ReturnType<typeof setTimeout> | undefined;

/**
 * Says `message` in the status line (a live region: screen readers read it
 * out) for a while; "" clears it.
 */
export function announce(message: string): void {
  const el = document.getElementById("announce");
  if (!el) return;
  // The same message twice in a row is still news (a second copy).
  el.textContent = "";
  el.textContent = message;
  if (clearing !== undefined) clearTimeout(clearing);
  clearing = message ? setTimeout(() => announce(""), ANNOUNCE_MS) : undefined;
}

/**
 * Copies `text` to the clipboard and says so. The Clipboard API exists only in
 * a secure context (HTTPS, or localhost); a registry reached over plain HTTP
 * by another name gets the older copy command on a selected text field.
 */
export async function copyText(text: string): Promise<boolean> {
  const back = document.activeElement;
  let ok = false;
  if (window.isSecureContext && navigator.clipboard) {
    try {
      await navigator.clipboard.writeText(text);
      ok = true;
    } catch {
      ok = false;
    }
  }
  if (!ok) {
    const field = h("textarea", { class: "offscreen", readonly: "", "aria-hidden": "true" });
    field.value = text;
    document.body.append(field);
    field.select();
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
    field.remove();
    back?.focus();
  }
  announce(
    ok ? `Copied to the clipboard: ${text}` : `Could not copy; select the command and copy it: ${text}`,
  );
  return ok;
}
