/**
 * How every node step's text runs: as root under POSIX `sh` (directly when
 * the SSH user is root, else through `sudo -n`, which fails at once instead of
 * prompting), and with `fail` / `say` that name the node in every message.
 */
import { shQuote } from "../shell";

/** Wraps a script so that it runs under `sh` as root (see the header). */
export function asRoot(script: string): string {
  const q = shQuote(script);
  return `if [ "$(id -u)" -eq 0 ]; then sh -c ${q}; else sudo -n sh -c ${q}; fi\n`;
}

/** Shell lines that define `fail` and `say` with the node's name in every message. */
export function failWith(node: string): string {
  return `NODE=${shQuote(node)}
fail() { printf 'static-container-registry: node %s: %s\\n' "$NODE" "$*" >&2; exit 1; }
say() { printf 'static-container-registry: node %s: %s\\n' "$NODE" "$*"; }
`;
}
