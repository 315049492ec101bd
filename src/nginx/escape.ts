/**
 * Turning strings into nginx config tokens, safely.
 *
 * nginx's config parser knows three kinds of tokens: bare words, "double
 * quoted" and 'single quoted' strings. Inside any of them `\"`, `\'`, `\\`,
 * `\n`, `\r` and `\t` are escapes; every other character is literal, except
 * that in values that accept variables `$name` and `${name}` are variables.
 * A token may not be longer than the parser's buffer (4096 bytes).
 */

/** The longest token we ever write (nginx's parser refuses tokens of more than 4096 bytes). */
export const MAX_TOKEN_BYTES = 4000;

/** Thrown for options or inventory content that cannot be rendered safely. */
export class RenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RenderError";
  }
}

/** Characters that may stand in a bare (unquoted) token without changing its meaning. */
const BARE = /^[A-Za-z0-9._/:?%!@+=,|^~*&-]+$/;

/**
 * A token for any string: bare when that is unambiguous, otherwise single
 * quoted with `\` and `'` escaped. Control characters are refused: they would
 * survive into paths and headers.
 */
export function token(s: string): string {
  if (/[\u0000-\u001f\u007f]/.test(s)) {
    throw new RenderError(`cannot put control characters into the nginx config: ${JSON.stringify(s)}`);
  }
  const t = unchecked(s);
  if (Buffer.byteLength(t) > MAX_TOKEN_BYTES) {
    throw new RenderError(`a value of ${Buffer.byteLength(t)} bytes is too long for nginx's config parser`);
  }
  return t;
}

function unchecked(s: string): string {
  return s !== "" && BARE.test(s) && !s.startsWith("~") ? s : `'${s.replace(/[\\']/g, "\\$&")}'`;
}

/** Bytes {@link quoted} would write for `s`, without refusing long ones (for packing). */
export function quotedLength(s: string): number {
  const t = unchecked(s);
  return Buffer.byteLength(t) + (t.startsWith("'") ? 0 : 2);
}

/** Always single quoted (for regexes and values that read better quoted). */
export function quoted(s: string): string {
  const t = token(s);
  return t.startsWith("'") ? t : `'${t}'`;
}

/**
 * A value that nginx must not interpolate: every `$` would start a variable,
 * and there is no escape for it in nginx. Callers pass text that has no `$`
 * (paths, names) or JSON, where `$` is written as `\u0024` (see {@link jsonText}).
 */
export function literal(s: string): string {
  if (s.includes("$")) throw new RenderError(`unexpected '$' in ${JSON.stringify(s)}`);
  return token(s);
}

/**
 * JSON text that is safe inside an nginx value: `$` is written as the JSON
 * escape `\u0024`, so nginx sees no variable and a JSON parser reads the same
 * string. JSON.stringify already escapes every control character.
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value).replace(/\$/g, "\\u0024");
}

/** `s` as a literal inside a PCRE regex (outside a character class). */
export function regexLiteral(s: string): string {
  return s.replace(/[\\^$.|?*+()[\]{}]/g, "\\$&");
}

/**
 * Checks a string that may hold nginx variables (`$name`, `${name}`), such as
 * `serverRoot`: every `$` must start a well-formed variable reference.
 */
export function checkVariables(what: string, s: string): void {
  const stripped = s.replace(/\$(?:[A-Za-z_][A-Za-z0-9_]*|\{[A-Za-z_][A-Za-z0-9_]*\})/g, "");
  if (stripped.includes("$")) {
    throw new RenderError(
      `${what} ${JSON.stringify(s)}: '$' must start an nginx variable ($name or \${name})`,
    );
  }
}
