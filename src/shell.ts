/**
 * Shell text shared by every generated script (drift guard, node steps, mirror
 * commands): quoting, argv → command line, the prelude every script starts
 * with, and an atomic file write. Scripts are fixed text plus arguments; these
 * are the only places that turn a value into shell syntax, so quoting has one
 * home and one test.
 */

/** Quotes `s` as one POSIX shell word (single quotes; `'` becomes `'\''`). */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

// Words made only of these characters need no quoting, which keeps printed
// command lines readable (`skopeo copy --all docker://… dir:…`).
const PLAIN_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes `s` only when the shell would otherwise split or expand it. */
export function shWord(s: string): string {
  return PLAIN_WORD.test(s) ? s : shQuote(s);
}

/** An argv as one command line that a POSIX shell parses back into the same argv. */
export function shCommand(argv: readonly string[]): string {
  return argv.map(shWord).join(" ");
}

/**
 * The first lines of every generated script: stop at the first failing
 * command and on unset variables, and a predictable PATH (sshd's default PATH
 * for non-login shells may lack the sbin directories where `ctr` and `ip` live).
 */
export const SCRIPT_PRELUDE = `set -eu
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:\${PATH:-}
export PATH
`;

/**
 * Shell text that writes `content` to `path` atomically: a temp file beside it,
 * then `mv` (a rename within one directory), so a reader sees the old file or
 * the new one, never half of one. The content travels in a quoted here-document
 * whose delimiter cannot occur in it.
 */
export function shAtomicWrite(path: string, content: string, mode = "0644"): string {
  return shAtomicWriteTo(shQuote(path), content, mode);
}

/**
 * {@link shAtomicWrite} to a path given as shell text (`"$d/hosts.toml"`), for
 * scripts that compute the path on the node. `pathExpr` must expand to one word.
 */
export function shAtomicWriteTo(pathExpr: string, content: string, mode = "0644"): string {
  let delim = "SCR_EOF";
  while (content.split("\n").includes(delim)) delim += "_";
  const body = content.endsWith("\n") ? content : content + "\n";
  const tmp = `${pathExpr}.tmp.scr`;
  return [
    `mkdir -p "$(dirname ${pathExpr})"`,
    `cat > ${tmp} <<'${delim}'`,
    `${body}${delim}`,
    `chmod ${mode} ${tmp}`,
    `mv -f ${tmp} ${pathExpr}`,
  ].join("\n");
}

/** Indents every non-empty line of `text` by `n` spaces. */
export function indent(text: string, n: number): string {
  const pad = " ".repeat(n);
  return text
    .split("\n")
    .map((l) => (l === "" ? l : pad + l))
    .join("\n");
}
