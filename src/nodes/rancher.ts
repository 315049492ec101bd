/**
 * k3s and RKE2 nodes: their embedded containerd is wired by
 * `/etc/rancher/{k3s,rke2}/registries.yaml`, read when the service starts.
 * Shell text (for the wire and unwire scripts) that merges our `mirrors:`
 * entries into that file — other entries and keys stay as they are, an entry
 * of the user's for one of our hosts is replaced while ours is in place —
 * and restarts the service only when the file changed. A file that was there
 * before is kept beside it and restored on delete.
 *
 * The merge is textual, for the block style k3s documents (`mirrors:` at the
 * top level, entries indented by two spaces); anything else (flow style
 * `mirrors: {…}`) is refused with a message rather than guessed at.
 */
import { shQuote } from "../shell";
import { BACKUP_SUFFIX } from "./files";

const BEGIN = "  # BEGIN static-container-registry";
const END = "  # END static-container-registry";

/** The entries of a `mirrors:`-only document (registriesYamlAll's), as lines indented by two. */
function mirrorEntries(registriesYaml: string): string {
  const lines = registriesYaml.replace(/\n+$/, "").split("\n");
  if (lines[0] !== "mirrors:" || lines.slice(1).some((l) => l !== "" && !l.startsWith("  ")))
    throw new Error("registries.yaml merge: expected a document with only a top-level mirrors: block");
  return lines.slice(1).join("\n") + "\n";
}

// awk: drop our previous block and the user's entries for our hosts, insert our block under `mirrors:`.
const MERGE_AWK = `
BEGIN { n = split(hosts, hs, " "); for (i = 1; i <= n; i++) ours[hs[i]] = 1
        while ((getline l < block) > 0) blk = blk l "\\n" }
skipb { if ($0 ~ /^[[:space:]]*# END static-container-registry$/) skipb = 0; next }
/^[[:space:]]*# BEGIN static-container-registry$/ { skipb = 1; next }
/^[^[:space:]#]/ {
  key = $0; sub(/:.*$/, "", key); inm = (key == "mirrors"); skipe = 0
  if (inm && $0 !~ /^mirrors:[[:space:]]*$/) bad = 1
  print; if (inm) { printf "%s", blk; done = 1 }; next
}
inm && /^  [^[:space:]#]/ {
  key = $0; sub(/^  /, "", key); sub(/:.*$/, "", key); gsub(/["\\047]/, "", key)
  skipe = (key in ours); if (skipe) next
}
inm && skipe && (/^   / || /^[[:space:]]*$/) { next }
{ print }
END { if (bad) exit 3; if (!done) { print "mirrors:"; printf "%s", blk } }
`;

const UNMERGE_AWK = `
skipb { if ($0 ~ /^[[:space:]]*# END static-container-registry$/) skipb = 0; next }
/^[[:space:]]*# BEGIN static-container-registry$/ { skipb = 1; next }
{ print }
`;

/** Restarts whichever of the services runs (k3s or k3s-agent; rke2-server or rke2-agent) for dir $d. */
const RESTART = `restart_rancher() {
  case "$d" in */rke2) svcs="rke2-server rke2-agent" ;; *) svcs="k3s k3s-agent" ;; esac
  for s in $svcs; do
    if systemctl is-active --quiet "$s" 2>/dev/null; then
      systemctl restart "$s" || fail "could not restart $s after changing $f"
      say "restarted $s ($f changed)"
    fi
  done
}
`;

/**
 * For each k3s/RKE2 config dir in `$rancher` (space-separated): merge the
 * entries of `registriesYaml` for `hosts` into `registries.yaml`.
 */
export function shMergeRegistries(registriesYaml: string, hosts: string[]): string {
  const entries = mirrorEntries(registriesYaml);
  return `${RESTART}for d in $rancher; do
  f="$d/registries.yaml"
  blk="$f.block.scr"
  cat >"$blk" <<'SCR_MIRRORS_EOF'
${BEGIN}
${entries}${END}
SCR_MIRRORS_EOF
  existed=0
  if [ -f "$f" ]; then existed=1; src="$f"; else src=/dev/null; fi
  st=0
  awk -v hosts=${shQuote(hosts.join(" "))} -v block="$blk" '${MERGE_AWK}' "$src" >"$f.tmp.scr" || st=$?
  rm -f "$blk"
  if [ "$st" -eq 3 ]; then rm -f "$f.tmp.scr"; fail "$f has mirrors: in flow style; write it in block style (mirrors: on its own line, entries indented by two spaces)"; fi
  [ "$st" -eq 0 ] || fail "could not merge $f"
  if [ "$existed" -eq 1 ] && cmp -s "$f.tmp.scr" "$f"; then
    rm -f "$f.tmp.scr"
    say "$f already has the mirrors"
  else
    if [ "$existed" -eq 0 ]; then
      : >"$d/.registries.yaml.created-by-static-container-registry"
    elif [ ! -f "$f${BACKUP_SUFFIX}" ] && ! grep -q '^[[:space:]]*# BEGIN static-container-registry$' "$f"; then
      cp -p "$f" "$f${BACKUP_SUFFIX}"
    fi
    chmod 0600 "$f.tmp.scr"
    mv -f "$f.tmp.scr" "$f"
    say "merged the mirrors into $f"
    restart_rancher
  fi
done
`;
}

/** For each dir in `$rancher`: the file as it was (backup), or without our block (removed if we created it and it is empty). */
export function shUnmergeRegistries(): string {
  return `${RESTART}for d in $rancher; do
  f="$d/registries.yaml"
  [ -f "$f" ] || continue
  cp -p "$f" "$f.old.scr"
  if [ -f "$f${BACKUP_SUFFIX}" ]; then
    mv -f "$f${BACKUP_SUFFIX}" "$f"
  else
    awk '${UNMERGE_AWK}' "$f" >"$f.tmp.scr" && mv -f "$f.tmp.scr" "$f"
    if [ -f "$d/.registries.yaml.created-by-static-container-registry" ] && ! grep -v '^mirrors:[[:space:]]*$' "$f" | grep -q '[^[:space:]]'; then
      rm -f "$f"
    fi
  fi
  rm -f "$d/.registries.yaml.created-by-static-container-registry"
  if [ -f "$f" ] && cmp -s "$f" "$f.old.scr"; then :; else restart_rancher; fi
  rm -f "$f.old.scr"
done
`;
}
