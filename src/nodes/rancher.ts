/**
 * k3s and RKE2 nodes: their embedded containerd is wired by
 * `/etc/rancher/{k3s,rke2}/registries.yaml`, read when the service starts.
 * Shell text (for the wire and unwire scripts) that merges our entries into
 * that file — `mirrors:` per upstream host, and with TLS `configs:` per
 * registry endpoint — other entries and keys stay as they are, an entry of
 * the user's for one of our keys is replaced while ours is in place — and
 * restarts the service only when the file changed. A file that was there
 * before is kept beside it and restored on delete.
 *
 * The merge is textual, for the block style k3s documents (`mirrors:` and
 * `configs:` at the top level, entries indented by two spaces); anything
 * else (flow style `mirrors: {…}`) is refused with a message rather than
 * guessed at.
 */
import { parse, stringify } from "yaml";
import { shQuote } from "../shell";
import { BACKUP_SUFFIX } from "./files";

const BEGIN = "  # BEGIN static-container-registry";
const END = "  # END static-container-registry";

/** The top-level sections we merge, in the order they are added to a file that lacks them. */
const SECTIONS = ["mirrors", "configs"] as const;

interface Section {
  name: (typeof SECTIONS)[number];
  /** The entries, as lines indented by two. */
  entries: string;
  keys: string[];
}

/** Our sections of a registries.yaml document (registriesYamlAll's: only mirrors and configs). */
function sectionsOf(registriesYaml: string): Section[] {
  const doc = parse(registriesYaml) as Record<string, Record<string, unknown>> | null;
  const extra = Object.keys(doc ?? {}).filter((k) => !(SECTIONS as readonly string[]).includes(k));
  if (!doc || !doc.mirrors || extra.length > 0)
    throw new Error(
      "registries.yaml merge: expected a document with only top-level mirrors: and configs: blocks",
    );
  return SECTIONS.filter((name) => doc[name] !== undefined).map((name) => {
    const text = stringify({ [name]: doc[name] }, { lineWidth: 0 });
    return { name, entries: text.slice(text.indexOf("\n") + 1), keys: Object.keys(doc[name]) };
  });
}

// awk: drop our previous blocks and the user's entries for our keys, insert our blocks under their sections.
const MERGE_AWK = `
BEGIN {
  n = split(sections, ss, " ")
  for (i = 1; i <= n; i++) {
    s = ss[i]; has[s] = 1; blk[s] = ""
    m = split(ENVIRON["SCR_KEYS_" s], ks, " ")
    for (j = 1; j <= m; j++) ours[s SUBSEP ks[j]] = 1
    f = ENVIRON["SCR_BLOCK_" s]
    while ((getline l < f) > 0) blk[s] = blk[s] l "\\n"
  }
}
skipb { if ($0 ~ /^[[:space:]]*# END static-container-registry$/) skipb = 0; next }
/^[[:space:]]*# BEGIN static-container-registry$/ { skipb = 1; next }
/^[^[:space:]#]/ {
  sec = $0; sub(/:.*$/, "", sec); skipe = 0
  if ((sec in has) && $0 !~ ("^" sec ":[[:space:]]*$")) bad = 1
  print; if (sec in has) { printf "%s", blk[sec]; done[sec] = 1 }; next
}
(sec in has) && /^  [^[:space:]#]/ {
  key = $0; sub(/^  /, "", key)
  if (key ~ /^["\\047]/) { q = substr(key, 1, 1); key = substr(key, 2); sub(q ".*$", "", key) }
  else sub(/:([[:space:]].*)?$/, "", key)
  skipe = ((sec SUBSEP key) in ours); if (skipe) next
}
(sec in has) && skipe && (/^   / || /^[[:space:]]*$/) { next }
{ print }
END {
  if (bad) exit 3
  for (i = 1; i <= n; i++) if (!(ss[i] in done)) { print ss[i] ":"; printf "%s", blk[ss[i]] }
}
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
 * entries of `registriesYaml` (its mirrors, and configs with TLS) into
 * `registries.yaml`.
 */
export function shMergeRegistries(registriesYaml: string): string {
  const sections = sectionsOf(registriesYaml);
  const blocks = sections
    .map(
      (s) => `  cat >"$f.${s.name}.scr" <<'SCR_${s.name.toUpperCase()}_EOF'
${BEGIN}
${s.entries}${END}
SCR_${s.name.toUpperCase()}_EOF
`,
    )
    .join("");
  const env = sections
    .map((s) => `SCR_KEYS_${s.name}=${shQuote(s.keys.join(" "))} SCR_BLOCK_${s.name}="$f.${s.name}.scr"`)
    .join(" ");
  const names = sections.map((s) => s.name).join(" ");
  return `${RESTART}for d in $rancher; do
  f="$d/registries.yaml"
${blocks}  existed=0
  if [ -f "$f" ]; then existed=1; src="$f"; else src=/dev/null; fi
  st=0
  ${env} awk -v sections=${shQuote(names)} '${MERGE_AWK}' "$src" >"$f.tmp.scr" || st=$?
  rm -f ${sections.map((s) => `"$f.${s.name}.scr"`).join(" ")}
  if [ "$st" -eq 3 ]; then rm -f "$f.tmp.scr"; fail "$f has ${sections.map((s) => `${s.name}:`).join(" or ")} in flow style; write it in block style (${sections.map((s) => `${s.name}:`).join(" and ")} on a line of its own, entries indented by two spaces)"; fi
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
    if [ -f "$d/.registries.yaml.created-by-static-container-registry" ] && ! grep -Ev '^(mirrors|configs):[[:space:]]*$' "$f" | grep -q '[^[:space:]]'; then
      rm -f "$f"
    fi
  fi
  rm -f "$d/.registries.yaml.created-by-static-container-registry"
  if [ -f "$f" ] && cmp -s "$f" "$f.old.scr"; then :; else restart_rancher; fi
  rm -f "$f.old.scr"
done
`;
}
