/**
 * How every node step's text runs: as root under POSIX `sh` (directly when
 * the SSH user is root, else through `sudo -n`, which fails at once instead of
 * prompting), and with `fail` / `say` that name the node in every message.
 */
import { shQuote } from "../shell";

/**
 * Wraps a script so that it runs under `sh` as root (see the header). The
 * script is in the text once, in a variable both branches read: the whole
 * text reaches the node's shell as one argument, which Linux caps at 128 KiB.
 */
export function asRoot(script: string): string {
  return `S=${shQuote(script)}\nif [ "$(id -u)" -eq 0 ]; then sh -c "$S"; else sudo -n sh -c "$S"; fi\n`;
}

/**
 * The command of a node step whose script travels on standard input (the
 * Command's `stdin`) rather than in the command text. An SSH command, like
 * `sh -c`'s script, reaches the node's shell as one argument, which Linux
 * caps at 128 KiB (MAX_ARG_STRLEN, E2BIG); a static pod's config files (the
 * maps of thousands of tags, the catalog page) outgrow it. Runs as root like
 * {@link asRoot}; pair it with {@link stdinScript}.
 */
export const ROOT_SH_FROM_STDIN = `if [ "$(id -u)" -eq 0 ]; then exec sh -s; else exec sudo -n sh -s; fi\n`;

/**
 * `script` as the standard input of {@link ROOT_SH_FROM_STDIN}: inside one
 * brace group, so the shell parses all of it before running any of it (a
 * script cut short on the way is a syntax error that runs nothing, never its
 * first half), and so no command in it can read the rest of the script as
 * its own input.
 */
export function stdinScript(script: string): string {
  return `{\n${script.endsWith("\n") ? script : script + "\n"}} </dev/null\n`;
}

/**
 * `command` after reading its standard input to the end, for the other
 * command of a step whose create reads a script from stdin: the SSH client
 * sends the same stdin with every command of the step (delete too), and
 * one that stops reading early may be told the session failed.
 */
export function drainingStdin(command: string): string {
  return `cat >/dev/null\n${command}`;
}

/** Shell lines that define `fail` and `say` with the node's name in every message. */
export function failWith(node: string): string {
  return `NODE=${shQuote(node)}
fail() { printf 'static-container-registry: node %s: %s\\n' "$NODE" "$*" >&2; exit 1; }
say() { printf 'static-container-registry: node %s: %s\\n' "$NODE" "$*"; }
`;
}
