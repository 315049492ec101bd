/**
 * The two structured response headers a registry client must read, parsed
 * by one small tokenizer of RFC 9110's `token` / `quoted-string` / parameter
 * grammar:
 *
 * - `WWW-Authenticate` (RFC 9110 §11.6.1): one or more challenges, each a
 *   scheme and its parameters (`Bearer realm="…",service="…",scope="…"`),
 *   all in one comma-separated list, so a new challenge is told from a
 *   parameter by the lack of `=` after its first token. Scheme names and
 *   parameter names are case-insensitive (lower-cased here).
 * - `Link` (RFC 8288): `<uri-reference>; rel="next"`, as the distribution
 *   spec paginates lists (tags, catalog, referrers); the target may be
 *   relative to the request's URL.
 */

export interface Challenge {
  /** Lower case: `bearer`, `basic`, … */
  scheme: string;
  /** Parameter names lower-cased; values unquoted. */
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;
// token68 (RFC 9110 §11.2): base64-ish credentials with trailing `=`s.
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*/;

/** A cursor over a header value. */
class Cursor {
  i = 0;
  constructor(readonly s: string) {}
  skipSpace() {
    while (this.i < this.s.length && (this.s[this.i] === " " || this.s[this.i] === "\t")) this.i++;
  }
  eat(c: string): boolean {
    this.skipSpace();
    if (this.s[this.i] !== c) return false;
    this.i++;
    return true;
  }
  peek(): string | undefined {
    this.skipSpace();
    return this.s[this.i];
  }
  token(re = TOKEN): string | undefined {
    this.skipSpace();
    const m = re.exec(this.s.slice(this.i));
    if (!m) return undefined;
    this.i += m[0].length;
    return m[0];
  }
  /**
   * A quoted-string (backslash escapes undone), or an unquoted value up to
   * the next comma or space (leniently: servers send unquoted URLs, which
   * are not tokens).
   */
  value(): string | undefined {
    this.skipSpace();
    if (this.s[this.i] !== '"') return this.token(/^[^\s,;"]+/);
    let out = "";
    for (this.i++; this.i < this.s.length; this.i++) {
      const c = this.s[this.i];
      if (c === "\\" && this.i + 1 < this.s.length) out += this.s[++this.i];
      else if (c === '"') {
        this.i++;
        return out;
      } else out += c;
    }
    return undefined; // unterminated
  }
  /** Whether the next token is followed by `=` (a parameter, not a new challenge). */
  atParam(): boolean {
    const save = this.i;
    const t = this.token();
    const param = t !== undefined && this.peek() === "=" && this.s[this.i + 1] !== "=";
    this.i = save;
    return param;
  }
  done(): boolean {
    this.skipSpace();
    return this.i >= this.s.length;
  }
  /** Skips to just past the next comma (error recovery). */
  skipPastComma() {
    while (this.i < this.s.length && this.s[this.i] !== ",") this.i++;
    if (this.i < this.s.length) this.i++;
  }
}

/**
 * The challenges of one or more `WWW-Authenticate` values (Node joins
 * repeated headers with ", ", which the grammar allows). A malformed part is
 * skipped, not fatal: the caller decides what an unusable answer means.
 */
export function parseChallenges(header: string | readonly string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const text = typeof header === "string" ? header : header.join(", ");
  const c = new Cursor(text);
  const out: Challenge[] = [];
  while (!c.done()) {
    if (c.eat(",")) continue;
    const scheme = c.token();
    if (scheme === undefined) {
      c.skipPastComma();
      continue;
    }
    const ch: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(ch);
    // token68 form (`Negotiate abc==`): kept as the parameter "" .
    if (!c.atParam() && c.peek() !== "," && !c.done()) {
      const t68 = c.token(TOKEN68);
      if (t68 !== undefined) ch.params[""] = t68;
      continue;
    }
    // auth-params, comma-separated, until a token that is not followed by "=".
    for (;;) {
      while (c.eat(","));
      if (c.done() || !c.atParam()) break;
      const name = c.token()!.toLowerCase();
      c.eat("=");
      const value = c.value();
      if (value === undefined) {
        c.skipPastComma();
        continue;
      }
      ch.params[name] = value;
    }
  }
  return out;
}

export interface Link {
  /** The target as written (resolve it against the request URL). */
  target: string;
  /** Relation types, lower case (`rel="next prev"` gives both). */
  rel: string[];
  params: Record<string, string>;
}

/** The links of one or more `Link` values. */
export function parseLinks(header: string | readonly string[] | undefined): Link[] {
  if (header === undefined) return [];
  const text = typeof header === "string" ? header : header.join(", ");
  const c = new Cursor(text);
  const out: Link[] = [];
  while (!c.done()) {
    if (c.eat(",")) continue;
    if (!c.eat("<")) {
      c.skipPastComma();
      continue;
    }
    const end = text.indexOf(">", c.i);
    if (end < 0) break;
    const link: Link = { target: text.slice(c.i, end).trim(), rel: [], params: {} };
    c.i = end + 1;
    while (c.eat(";")) {
      const name = c.token()?.toLowerCase();
      if (name === undefined) break;
      const value = c.eat("=") ? (c.value() ?? "") : "";
      link.params[name] = value;
    }
    link.rel = (link.params.rel ?? "").toLowerCase().split(/\s+/).filter(Boolean);
    out.push(link);
    if (!c.done() && !c.eat(",")) c.skipPastComma();
  }
  return out;
}

/** The absolute URL of the `rel="next"` link, resolved against `base`, or undefined when there is none. */
export function nextLink(
  header: string | readonly string[] | undefined,
  base: string | URL,
): URL | undefined {
  const next = parseLinks(header).find((l) => l.rel.includes("next"));
  if (!next) return undefined;
  try {
    return new URL(next.target, base);
  } catch {
    return undefined;
  }
}
