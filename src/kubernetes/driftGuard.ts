/**
 * The drift guard: a POSIX sh script, run by an init container before nginx
 * starts, that checks the images mounted into the pod against the Inventory
 * the nginx config was rendered from.
 *
 * Why: the images dir is scanned where `pulumi up` runs, but the pod reads
 * whatever copy its node (or volume) holds. If the two differ, nginx would
 * start happily and answer 404 for the missing objects until someone notices.
 * The guard makes the pod fail to start instead, with a message naming every
 * missing or different file (kubectl logs <pod> -c drift-guard).
 *
 * What it checks: every manifest by sha256 (they are small, and their digest is
 * their identity), every blob by presence, readability and size (hashing
 * gigabytes on every pod start would be too slow; a truncated or missing layer
 * is what a partial copy looks like).
 *
 * It needs `sh`, `sha256sum`, `stat -c` (else `wc -c`), `sed`, `grep`,
 * `sort`, `uniq`, `cut`, `xargs`, `tr`, `head` and `id`: busybox (alpine
 * images) and coreutils + grep + sed (debian images) have them all. Files are
 * checked in batches, so 10,000 tags take seconds, not minutes.
 *
 * The script itself is fixed text apart from a few counts; the list of what to
 * check goes into separate list files of bounded size, so that a huge tree
 * can be split across ConfigMaps like the nginx config.
 */
import type { Inventory } from "../inventory/model";
import { shQuote } from "../shell";

/** Script file name in the config dir. */
export const DRIFT_GUARD_SCRIPT = "drift-guard.sh";
const LIST_PREFIX = "drift-guard-";
const LIST_SUFFIX = ".list";

export interface DriftGuardOptions {
  /** Where the images are mounted in the pod (the script's default root). */
  imagesRoot: string;
  /** Where the script and its lists are mounted (the script's default list dir). */
  configDir: string;
  /** Upper bound on each list file's size in bytes (they must fit into a ConfigMap). */
  maxFileBytes: number;
  /** At most this many problems are printed one by one (default 100). */
  maxReported?: number;
}

export interface DriftGuard {
  /** File name → content: the script and its lists (flat names). */
  files: Record<string, string>;
  /** The script's file name. */
  main: string;
  /** Number of manifests and blobs checked. */
  manifests: number;
  blobs: number;
}

// Paths come from the Inventory (repository names, tags, hex digests), so they
// cannot contain spaces or shell metacharacters; we still refuse anything else
// rather than quote it, since a list line is split on spaces by `read`.
const SAFE_PATH_RE = /^[A-Za-z0-9._+@:/-]+$/;
const SAFE_DIR_RE = /^\/[A-Za-z0-9._/-]*$/;

/** For each manifest and blob: the first `repo:tag` that needs it, for messages. */
function owners(inv: Inventory): Map<string, string> {
  const owner = new Map<string, string>();
  const visit = (digest: string, who: string, depth: number) => {
    if (!owner.has(digest)) owner.set(digest, who);
    const m = inv.manifests[digest];
    if (!m || depth > 8) return;
    for (const c of m.children) visit(c, who, depth + 1);
    for (const b of m.blobs) if (!owner.has(b)) owner.set(b, who);
  };
  for (const repo of inv.repositories) {
    for (const tag of repo.tags) visit(tag.digest, `${repo.name}:${tag.name}`, 0);
  }
  // Untagged manifests (referrers, layout roots) are still served by digest.
  for (const repo of inv.repositories) {
    for (const d of repo.manifests) visit(d, `${repo.name}@${d}`, 0);
  }
  return owner;
}

/**
 * Renders the drift guard for `inv`. Deterministic: same Inventory and options,
 * same bytes (so it does not roll pods by itself).
 */
export function renderDriftGuard(inv: Inventory, opts: DriftGuardOptions): DriftGuard {
  if (!SAFE_DIR_RE.test(opts.imagesRoot))
    throw new Error(`drift guard: unsupported images root "${opts.imagesRoot}"`);
  if (!SAFE_DIR_RE.test(opts.configDir))
    throw new Error(`drift guard: unsupported config dir "${opts.configDir}"`);
  const owner = owners(inv);
  const lines: string[] = [];
  const line = (kind: "m" | "b", digest: string, size: number, path: string) => {
    if (!SAFE_PATH_RE.test(path) || path.startsWith("/") || path.split("/").includes("..")) {
      throw new Error(`drift guard: cannot check "${path}" (unexpected characters in an inventory path)`);
    }
    const hex = digest.replace(/^sha256:/, "");
    if (!/^[a-f0-9]{64}$/.test(hex)) throw new Error(`drift guard: unsupported digest ${digest}`);
    const who = (owner.get(digest) ?? "-").replace(/[^A-Za-z0-9._+@:/-]/g, "_");
    // The hex once per line: a file named by it (most are) says "%" instead;
    // and a file in its owner's tag directory (<repo>/<tag>/…) says "." for
    // the owner (<repo>:<tag>), which the script reads back from the path.
    const at = path.lastIndexOf(hex);
    const short = at >= 0 ? path.slice(0, at) + "%" + path.slice(at + hex.length) : path;
    const tagDir = path.slice(0, path.lastIndexOf("/"));
    const inTagDir = who.includes(":") && tagDir === who.replace(/:([^:/]*)$/, "/$1");
    lines.push(`${kind} ${hex} ${size} ${short} ${inTagDir ? "." : who}`);
  };
  const manifests = Object.values(inv.manifests).sort((a, b) =>
    a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0,
  );
  const blobs = Object.values(inv.blobs).sort((a, b) =>
    a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0,
  );
  for (const m of manifests) line("m", m.digest, m.size, m.path);
  for (const b of blobs) line("b", b.digest, b.size, b.path);

  // Chunk the lines into list files that each fit the size bound.
  const lists: string[] = [];
  let cur = "";
  const nameBytes = `${LIST_PREFIX}00000${LIST_SUFFIX}`.length;
  for (const l of lines) {
    const add = l.length + 1;
    if (add + nameBytes > opts.maxFileBytes)
      throw new Error("drift guard: maxFileBytes is too small for one list line");
    if (cur.length + add + nameBytes > opts.maxFileBytes) {
      lists.push(cur);
      cur = "";
    }
    cur += l + "\n";
  }
  if (cur !== "" || lists.length === 0) lists.push(cur);

  const files: Record<string, string> = {};
  lists.forEach((content, i) => {
    files[`${LIST_PREFIX}${String(i).padStart(5, "0")}${LIST_SUFFIX}`] = content;
  });
  files[DRIFT_GUARD_SCRIPT] = script({
    imagesRoot: opts.imagesRoot,
    configDir: opts.configDir,
    lists: lists.length,
    manifests: manifests.length,
    blobs: blobs.length,
    bytes: [...manifests, ...blobs].reduce((n, x) => n + x.size, 0),
    maxReported: opts.maxReported ?? 100,
  });
  return { files, main: DRIFT_GUARD_SCRIPT, manifests: manifests.length, blobs: blobs.length };
}

function script(p: {
  imagesRoot: string;
  configDir: string;
  lists: number;
  manifests: number;
  blobs: number;
  bytes: number;
  maxReported: number;
}): string {
  return `#!/bin/sh
# static-container-registry drift guard (generated; do not edit).
#
# Checks that the images under ROOT are the ones the registry's nginx config
# was generated from: every manifest by sha256, every blob by presence,
# readability and size. Exits non-zero, naming each missing or different file,
# so that the pod does not start serving 404s for a copy that has drifted.
#
# usage: sh ${DRIFT_GUARD_SCRIPT} [ROOT [LIST_DIR]]
#
# List lines: KIND HEX SIZE PATH NEEDED-BY (KIND m = manifest, b = blob; a
# "%" in PATH stands for HEX; NEEDED-BY "." for the <repo>:<tag> whose tag
# directory PATH is in).
# The files are checked in batches (one sha256sum / stat / sh per few
# thousand files, via xargs), and only the entries that fail are looked at
# one by one: the expected "hash path" / "size path" lines and the measured
# ones are sorted together, and a line that is not there twice is a mismatch.
set -u

root=\${1:-${shQuote(p.imagesRoot)}}
lists=\${2:-${shQuote(p.configDir)}}
expect_lists=${p.lists}
expect_manifests=${p.manifests}
expect_blobs=${p.blobs}
expect_bytes=${p.bytes}
max_reported=${p.maxReported}

problems=0
say() { printf 'drift-guard: %s\\n' "$*" >&2; }
problem() {
  problems=$((problems + 1))
  if [ "$problems" -le "$max_reported" ]; then say "$*"; fi
}

# Sizes without reading the files: stat -c (busybox and coreutils); else wc -c.
if stat -c '%s %n' -- "$lists" >/dev/null 2>&1; then
  sizes() { xargs -r stat -c '%s %n' -- 2>/dev/null; }
  size_of() { stat -c %s -- "$1"; }
else
  sizes() { xargs -r sh -c 'for f; do printf "%s %s\\n" "$(wc -c <"$f" | tr -d " ")" "$f"; done' sh 2>/dev/null; }
  size_of() { wc -c <"$1" | tr -d ' '; }
fi

# List $1 with each "%" in a path spelled out: a file named by its digest is
# written with "%" for the hex, which its line already holds.
lines_of() { sed 's/^\\([mb]\\) \\([0-9a-f]*\\) \\([0-9]*\\) \\([^ %]*\\)%/\\1 \\2 \\3 \\4\\2/' "$1"; }

# The lines of the list being checked (spelled out once, read several times).
list_text() { printf '%s\\n' "$text"; }

# Paths of the entries of the list in $text whose file does not match (one per line).
mismatches() {
  {
    list_text | sed -n 's/^m \\([0-9a-f]*\\) [0-9]* \\([^ ]*\\) .*$/\\1 \\2/p'
    list_text | sed -n 's/^b [0-9a-f]* \\([0-9]*\\) \\([^ ]*\\) .*$/\\1 \\2/p'
    list_text | sed -n 's/^m [0-9a-f]* [0-9]* \\([^ ]*\\) .*$/\\1/p' | (cd "$root" && xargs -r sha256sum -- 2>/dev/null) | tr -s ' '
    list_text | sed -n 's/^b [0-9a-f]* [0-9]* \\([^ ]*\\) .*$/\\1/p' | (cd "$root" && sizes)
    # stat does not need read permission: find blobs that exist but nginx could not read.
    list_text | sed -n 's/^b [0-9a-f]* [0-9]* \\([^ ]*\\) .*$/\\1/p' |
      (cd "$root" && xargs -r sh -c 'for f; do [ ! -e "$f" ] || [ -r "$f" ] || echo "unreadable $f"; done' sh)
  } | sort | uniq -u | cut -d ' ' -f 2 | sort -u
}

# Says what is wrong with one entry: KIND HEX SIZE PATH NEEDED-BY.
explain() {
  kind=$1 hex=$2 size=$3 path=$4 who=$5
  if [ "$who" = . ]; then dir=\${path%/*}; who="\${dir%/*}:\${dir##*/}"; fi
  f="$root/$path"
  case "$kind" in
    m) what="manifest sha256:$hex" ;;
    *) what="blob sha256:$hex" ;;
  esac
  if [ ! -e "$f" ]; then
    problem "missing $what ($size bytes) at $path, needed by $who"
  elif [ ! -f "$f" ] || [ ! -r "$f" ]; then
    problem "unreadable $what at $path (not a regular file readable by uid $(id -u)), needed by $who"
  elif [ "$kind" = m ]; then
    got=$(sha256sum <"$f") || got=
    problem "different $what at $path: its sha256 is \${got%% *}, needed by $who"
  else
    got=$(size_of "$f") || got=
    problem "different $what at $path: \${got:-unknown} bytes instead of $size, needed by $who"
  fi
}

for tool in sha256sum sed grep sort uniq cut xargs tr head id; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    say "the image has no $tool: the drift guard needs sh, sha256sum, stat (or wc), sed, grep, sort, uniq, cut, xargs, tr, head and id"
    exit 1
  fi
done

if [ ! -d "$root" ]; then
  say "images root $root is not a directory: is the images volume mounted?"
  exit 1
fi

found_lists=0
manifests=0
blobs=0
for list in "$lists"/${LIST_PREFIX}*${LIST_SUFFIX}; do
  [ -f "$list" ] || continue
  found_lists=$((found_lists + 1))
  manifests=$((manifests + $(grep -c '^m ' "$list")))
  blobs=$((blobs + $(grep -c '^b ' "$list")))
  text=$(lines_of "$list")
  for path in $(mismatches); do
    line=$(list_text | grep -F " $path " | head -n 1)
    # shellcheck disable=SC2086 # the fields are split on purpose
    [ -n "$line" ] && explain $line
  done
done

# A missing list (a ConfigMap that did not get projected) would otherwise pass.
if [ "$found_lists" -ne "$expect_lists" ] || [ "$manifests" -ne "$expect_manifests" ] || [ "$blobs" -ne "$expect_blobs" ]; then
  problem "incomplete check lists in $lists: $found_lists of $expect_lists files, $manifests of $expect_manifests manifests, $blobs of $expect_blobs blobs"
fi

if [ "$problems" -gt 0 ]; then
  if [ "$problems" -gt "$max_reported" ]; then say "... and $((problems - max_reported)) more"; fi
  say "FAILED: $problems problem(s): the images under $root are not the ones the registry config was generated from; not serving"
  exit 1
fi
say "OK: $manifests manifests and $blobs blobs ($expect_bytes bytes) under $root match the registry config"
exit 0
`;
}
