/**
 * The images store on a node, inside `hostPath.path` P and nowhere else, so
 * that P can be a dedicated disk (a mount point), an existing empty
 * directory, or a path that does not exist yet:
 *
 *   P/objects/<sha256>     every file of the images dir, by content, once
 *   P/sets/<set id>/       one complete tree per delivered content set,
 *                          hardlinks into objects/ (no extra space)
 *   P/incoming/<set id>/   what the copy step brought: `list` + objects/
 *   P/current -> sets/<id> the latest set, for people and tools (pods do not use it)
 *   P/.static-container-registry   marks P as a store: "created" (we made P)
 *                          or "adopted" (P was there, empty or a fresh filesystem)
 *
 * Pods mount their own set, `P/sets/<set id>`, named in the pod spec: a
 * running pod (and a container of it that restarts) keeps serving the set it
 * was made for until it is replaced. The delivery keeps the set it switches
 * from (pods roll off it) and drops older ones; an object no kept set links
 * to (link count 1) is removed. A P that holds anything else (besides a
 * filesystem's `lost+found`) is refused, naming it and what it holds, and is
 * left as it is.
 *
 * Stores of the earlier layout (P a symlink into a `P.store` beside it) are
 * moved into P by one rename, which running pods' mounts follow.
 *
 * Pure functions of their arguments: the component registers these texts,
 * the tests run the very same texts.
 */
import { SCRIPT_PRELUDE, shQuote } from "../shell";
import { asRoot, failWith } from "./nodeShell";

/** Entries of P that the store owns (and the filesystem's own lost+found, which it tolerates). */
const STORE_ENTRIES = [
  "objects",
  "sets",
  "incoming",
  "current",
  "previous",
  ".static-container-registry",
  ".current.switch",
  "lost+found",
];

function trimmed(hostPath: string): string {
  return hostPath.replace(/\/+$/, "");
}

/** Where the copy step puts what a node lacks (`<incoming>/<set id>/`). */
export function incomingDir(hostPath: string): string {
  return `${trimmed(hostPath)}/incoming`;
}

/** The tree of one content set on the node: what the pods of that set mount. */
export function setDir(hostPath: string, setId: string): string {
  if (!/^[0-9a-f]{64}$/.test(setId)) throw new Error(`content set id "${setId}" is not a sha256`);
  return `${trimmed(hostPath)}/sets/${setId}`;
}

/**
 * Shell lines that make P a store or fail naming what is in the way: the
 * earlier layout moved in, P made when missing, refused when it holds files
 * that are not the store's.
 */
function shEnsureStore(): string {
  const allowed = STORE_ENTRIES.map((e) => e.replace(/[.+]/g, "\\$&")).join("|");
  return `base=\${P##*/}
if [ -L "$P" ]; then
  t=$(readlink "$P")
  case "$t" in
    "$base.store/sets/"*)
      # The earlier layout: P -> P.store/sets/<id>. One rename makes P.store the store at P.
      [ -d "$P.store" ] || fail "$P points into $P.store, which is missing"
      rm -f "$P"
      mv -T "$P.store" "$P"
      ln -sfn "sets/\${t##*/}" "$P/current"
      echo created >"$P/.static-container-registry"
      say "moved the store from $P.store into $P"
      ;;
    *) fail "$P is a symlink (to $t) that static-container-registry did not make: hostPath.path must be a directory of its own" ;;
  esac
fi
if [ -e "$P" ] && [ ! -d "$P" ]; then fail "$P exists and is not a directory"; fi
if [ ! -e "$P" ]; then
  mkdir -p "$P"
  echo created >"$P/.static-container-registry"
fi
foreign=$(ls -A "$P" | grep -vxE '${allowed}' | head -n 5 | tr '\\n' ' ' || true)
if [ -n "$foreign" ]; then
  fail "$P holds files that are not static-container-registry's (\${foreign% }): hostPath.path must be an empty directory, a mount point of its own or a path that does not exist; nothing was changed"
fi
[ -f "$P/.static-container-registry" ] || echo adopted >"$P/.static-container-registry"
`;
}

/**
 * Prepares the node's store and prints the objects it already holds, one
 * sha256 per line (the input of `stageMissing`). The set id is in the text so
 * that the step runs again for new content.
 */
export function prepareStoreLines(hostPath: string, setId: string | undefined): string {
  return `# content set ${setId ?? "-"}
P=${shQuote(trimmed(hostPath))}
${shEnsureStore()}mkdir -p "$P/objects" "$P/incoming" "$P/sets"
ls "$P/objects" | grep -E '^[0-9a-f]{64}$' || true
`;
}

export interface DeliveryScriptOptions {
  /** Node name (in messages). */
  node: string;
  /** `hostPath.path`: the store. */
  hostPath: string;
  /** The content set's id (sha256 of its list). */
  setId: string;
}

/**
 * Adopts the copied objects (each checked against its sha256), builds the
 * set's tree from its list, points `current` at it, and prunes what no kept
 * set needs.
 */
export function deliverScript(o: DeliveryScriptOptions): string {
  setDir(o.hostPath, o.setId);
  const body = `${SCRIPT_PRELUDE}${failWith(o.node)}umask 022
P=${shQuote(trimmed(o.hostPath))}
ID=${shQuote(o.setId)}
${shEnsureStore()}in="$P/incoming/$ID"
[ -f "$in/list" ] || fail "the list of content set $ID was not copied to $in"

# 1. Adopt the copied objects, each only if its bytes hash to its name.
if [ -d "$in/objects" ]; then
  for f in "$in"/objects/*; do
    [ -f "$f" ] || continue
    h=\${f##*/}
    got=$(sha256sum <"$f")
    got=\${got%% *}
    [ "$got" = "$h" ] || fail "the copy of $h is corrupt (its sha256 is $got)"
    chmod 0644 "$f"
    mv -f "$f" "$P/objects/$h"
  done
fi

# 2. The set's tree: hardlinks to the objects, built aside, renamed when complete.
if [ ! -d "$P/sets/$ID" ]; then
  tmp="$P/sets/.$ID.partial"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  missing=0
  # Every directory at once; then one link per file.
  sed -n 's|^[0-9a-f]* [0-9]* \\(.*\\)/[^/]*$|\\1|p' "$in/list" | sort -u | (cd "$tmp" && xargs -r mkdir -p --)
  while read -r h size path; do
    o="$P/objects/$h"
    if [ ! -f "$o" ]; then
      printf 'static-container-registry: node %s: missing %s (%s bytes) for %s\\n' "$NODE" "$h" "$size" "$path" >&2
      missing=$((missing + 1))
      continue
    fi
    ln "$o" "$tmp/$path" 2>/dev/null || cp "$o" "$tmp/$path"
  done <"$in/list"
  [ "$missing" -eq 0 ] || fail "$missing file(s) of content set $ID are neither on the node nor in the copy"
  mv "$tmp" "$P/sets/$ID"
fi

# 3. current -> the new set (one rename); pods name their own set and keep it.
cur=$(readlink "$P/current" 2>/dev/null || true)
cur=\${cur##*/}
if [ "$cur" != "$ID" ]; then
  ln -sfn "sets/$ID" "$P/.current.switch"
  mv -Tf "$P/.current.switch" "$P/current"
  if [ -n "$cur" ]; then printf '%s\\n' "$cur" >"$P/previous"; fi
fi

# 4. Keep this set and the previous one (pods roll off it); drop the rest.
prev=$(cat "$P/previous" 2>/dev/null || true)
for d in "$P"/sets/* "$P"/sets/.*.partial; do
  [ -d "$d" ] || continue
  n=\${d##*/}
  [ "$n" = "$ID" ] || [ "$n" = "$prev" ] || rm -rf "$d"
done
find "$P/objects" -type f -links 1 -exec rm -f {} +
files=$(wc -l <"$in/list")
rm -rf "$in"
say "$P/sets/$ID is current ($files files)"
`;
  return asRoot(body);
}

/**
 * Removes what delivery made: the store's entries in P, and P itself when the
 * delivery created it (a mount point or a directory that was there stays).
 * A store of the earlier layout (P a symlink into P.store) goes too.
 */
export function undeliverScript(o: { node: string; hostPath: string }): string {
  return asRoot(`${SCRIPT_PRELUDE}${failWith(o.node)}P=${shQuote(trimmed(o.hostPath))}
base=\${P##*/}
if [ -L "$P" ]; then
  case "$(readlink "$P")" in "$base.store/sets/"*) rm -f "$P"; rm -rf "$P.store" ;; esac
fi
if [ -f "$P/.static-container-registry" ]; then
  how=$(cat "$P/.static-container-registry")
  rm -rf "$P/objects" "$P/sets" "$P/incoming" "$P/current" "$P/previous" "$P/.current.switch"
  rm -f "$P/.static-container-registry"
  if [ "$how" = created ]; then rmdir "$P" 2>/dev/null || true; fi
fi
say "removed the images store at $P"
`);
}
