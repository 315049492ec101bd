/**
 * The shell text that mirrors one reference into the images tree, and the
 * text that removes it again. Fixed text plus arguments: the CLI runs exactly
 * this text for each reference, and so does the component's
 * `command.local.Command` (create / delete), so one test covers both.
 *
 * What must hold:
 * - the copy lands in a dot-directory beside the tag (never scanned) and is
 *   renamed into place only when complete and of the pinned digest, so an
 *   interrupted run never leaves a tag the scanner would accept;
 * - a tag directory already holding what upstream has (the pinned digest, or
 *   the digest the tag resolves to now) is left alone: not rewritten, same
 *   inodes;
 * - credentials arrive in the environment (SCR_REGISTRY_AUTH: an auth.json
 *   document), are written to a private temp file for skopeo and removed on
 *   exit; they are never part of the text;
 * - a failed or interrupted copy removes its partial copy and the
 *   directories made for it (a killed one leaves only a dot-directory, which
 *   the scanner skips and the next run replaces);
 * - with a provenance step (src/provenance/command.ts), it runs after the
 *   copy (or the finding that none is needed) and before the image moves
 *   into place, given the image's digest and the directory it is in: it
 *   carries the signatures, attestations, SBOMs and referrers, and when it
 *   fails — a signature that does not verify — the image never lands.
 */
import * as path from "node:path";
import { SCRIPT_PRELUDE, shCommand, shQuote } from "../shell";
import { partialDir, type MirrorItem } from "./plan";
import { skopeoCopyArgv, skopeoInspectArgv, type SkopeoOptions } from "./skopeo";

/** The environment variable that carries an auth.json document to the script. */
export const AUTH_ENV = "SCR_REGISTRY_AUTH";

/** The auth.json document skopeo reads (what {@link AUTH_ENV} carries): a user and password per registry host. */
export function authJsonDocument(byHost: Record<string, { username: string; password: string }>): string {
  const auths: Record<string, { auth: string }> = {};
  for (const [host, c] of Object.entries(byHost))
    auths[host] = { auth: Buffer.from(`${c.username}:${c.password}`).toString("base64") };
  return JSON.stringify({ auths });
}

/** The tag directory of `item` under `root` (an absolute or relative path, as given). */
export function tagDir(root: string, item: MirrorItem): string {
  return path.join(root, ...item.tagPath.split("/"));
}

const DIGEST_OF = `digest_of() { echo "sha256:$(sha256sum < "$1" | cut -d ' ' -f 1)"; }`;

// A private scratch dir outside the tree (so a skipped image leaves every
// directory of the tree untouched); on failure or interruption the partial
// copy and the directories made for it go too.
const SETUP = `work="$(mktemp -d)"
cleanup() {
  status=$?
  rm -rf "$work"
  if [ "$status" != 0 ]; then
    rm -rf "$tmp"
    d="$(dirname "$dest")"
    while [ "$d" != "$root" ] && rmdir "$d" 2>/dev/null; do d="$(dirname "$d")"; done
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if [ -n "\${${AUTH_ENV}:-}" ]; then
  (umask 077 && printf '%s' "$${AUTH_ENV}" > "$work/auth.json")
  REGISTRY_AUTH_FILE="$work/auth.json"
  export REGISTRY_AUTH_FILE
fi`;

/**
 * Shell text that brings `item`'s tag directory under `root` up to date with
 * upstream; `provenance` is the argv of the provenance step, if any (the
 * script appends `--digest D --image-dir DIR`).
 */
export function mirrorScript(
  item: MirrorItem,
  root: string,
  o: SkopeoOptions,
  provenance?: readonly string[],
): string {
  const dest = tagDir(root, item);
  const tmp = partialDir(dest);
  const vars = [
    `ref=${shQuote(item.canonical)}`,
    `root=${shQuote(root.replace(/\/+$/, "") || "/")}`,
    `dest=${shQuote(dest)}`,
    `tmp=${shQuote(tmp)}`,
    `old=${shQuote(path.join(path.dirname(dest), `.${path.basename(dest)}.old`))}`,
    `pinned=${shQuote(item.digest ?? "")}`,
  ];
  const copy = shCommand(skopeoCopyArgv(item.source, tmp, o));
  const inspect = shCommand(skopeoInspectArgv(item.source, o));
  const lines = [
    SCRIPT_PRELUDE.trimEnd(),
    `# static-container-registry mirror: ${item.canonical} -> ${item.tagPath}`,
    ...vars,
    DIGEST_OF,
    SETUP,
    `if [ -e "$tmp" ] || [ -e "$old" ]; then rm -rf "$tmp" "$old"; fi`,
    `want="$pinned"`,
    `action=copy`,
    `if [ -f "$dest/manifest.json" ]; then`,
    `  if [ -z "$want" ]; then`,
    `    ${inspect} > "$work/upstream.json"`,
    `    want="$(digest_of "$work/upstream.json")"`,
    `  fi`,
    `  if [ "$(digest_of "$dest/manifest.json")" = "$want" ]; then action=skip; fi`,
    `fi`,
    `if [ "$action" = copy ]; then`,
    `  mkdir -p "$tmp"`,
    `  ${copy}`,
    `  got="$(digest_of "$tmp/manifest.json")"`,
    `  if [ -n "$pinned" ] && [ "$got" != "$pinned" ]; then`,
    `    echo "$ref: upstream sent $got, not the pinned digest" >&2`,
    `    exit 1`,
    `  fi`,
    `  digest="$got"`,
    `  image="$tmp"`,
    `else`,
    `  digest="$want"`,
    `  image="$dest"`,
    `fi`,
    ...(provenance ? [`${shCommand(provenance)} --digest "$digest" --image-dir "$image"`] : []),
    `if [ "$action" = copy ]; then`,
    `  if [ -e "$dest" ]; then mv "$dest" "$old"; fi`,
    `  mv "$tmp" "$dest"`,
    `  rm -rf "$old"`,
    `  echo "copied $ref $got"`,
    `else`,
    `  echo "skipped $ref $want (up to date)"`,
    `fi`,
  ];
  if (item.checkTag) {
    const check = shCommand(skopeoInspectArgv(item.checkTag, o));
    lines.push(
      `# The reference names a tag and pins a digest: say so when the tag moved.`,
      `tag=${shQuote(item.checkTag)}`,
      `if ${check} > "$work/tag.json" 2> "$work/tag.err"; then`,
      `  now="$(digest_of "$work/tag.json")"`,
      `  if [ "$now" != "$pinned" ]; then echo "warning: $ref: $tag now points to $now; kept the pinned $pinned"; fi`,
      `else`,
      `  echo "warning: $ref: could not check where $tag points: $(tail -n 1 "$work/tag.err")"`,
      `fi`,
    );
  }
  return lines.join("\n") + "\n";
}

/** Shell text that removes `item`'s tag directory (renamed away first, so no half tag is ever seen). */
export function unmirrorScript(item: MirrorItem, root: string): string {
  const dest = tagDir(root, item);
  return (
    [
      SCRIPT_PRELUDE.trimEnd(),
      `# static-container-registry mirror: remove ${item.canonical} (${item.tagPath})`,
      `dest=${shQuote(dest)}`,
      `gone=${shQuote(path.join(path.dirname(dest), `.${path.basename(dest)}.removed`))}`,
      `rm -rf "$gone" ${shQuote(partialDir(dest))}`,
      `if [ -e "$dest" ]; then mv "$dest" "$gone"; rm -rf "$gone"; echo "removed $ref"; fi`,
    ].join("\n") + "\n"
  );
}
