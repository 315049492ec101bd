/**
 * The data of the list endpoints: entries of the list map (`$scr_lk` →
 * `$scr_lv`), which only the njs handlers read (njs.ts). A list is stored
 * sorted, in chunks that each fit in one nginx token:
 *
 *   <name>|t            number of chunks of the repository's tags, then
 *                       "|" and the first tag of each chunk ("a","m"), when
 *                       they fit in one token: the njs module finds a page's
 *                       chunk without reading the others
 *   <name>|t|<i>        tags as JSON strings, joined by "," ("a","b")
 *   |c, |c|<i>          the catalog (repository names), likewise
 *   <name>|r|<hex>      number of chunks of the referrers of sha256:<hex>
 *   <name>|r|<hex>|<i>  their descriptors (JSON), joined by ","
 *
 * Names and tags come from the distribution grammar: no ",", "|", quotes or
 * backslashes, so a JSON string is the entry in quotes, and chunks go into
 * the answers as they are.
 * Every key is lower case (exact map keys match case-insensitively).
 * An empty list has no entries at all (a missing count reads as 0).
 */
import type { Inventory, RepositoryRecord } from "../inventory/model";
import { byteOrder, referrersOf } from "../inventory/model";
import { MAX_TOKEN_BYTES, quotedLength, token } from "./escape";
import { referrerChunks } from "./referrers";

/** `key value;` lines of one sorted list. */
export function listLines(key: string, sorted: readonly string[], budget = MAX_TOKEN_BYTES): string[] {
  const chunks: string[] = [];
  let cur = "";
  for (const e of sorted.map((x) => `"${x}"`)) {
    const joined = cur === "" ? e : `${cur},${e}`;
    if (cur !== "" && quotedLength(joined) > budget) {
      chunks.push(cur);
      cur = e;
    } else cur = joined;
  }
  if (cur !== "") chunks.push(cur);
  if (chunks.length < 2) return chunkLines(key, chunks);
  // The first entry of each chunk, for the binary search (only worth it with several).
  const firsts = chunks.map((c) => c.slice(0, c.indexOf('"', 1) + 1)).join(",");
  const index = `${chunks.length}|${firsts}`;
  return chunkLines(key, chunks, quotedLength(index) <= budget ? index : undefined);
}

function chunkLines(key: string, chunks: readonly string[], head = String(chunks.length)): string[] {
  if (chunks.length === 0) return [];
  return [`${token(key)} ${token(head)};`, ...chunks.map((c, i) => `${token(`${key}|${i}`)} ${token(c)};`)];
}

/** The tags and referrers of one repository (served as `name`). */
export function repositoryListLines(inv: Inventory, repo: RepositoryRecord, name: string): string[] {
  const tags = repo.tags.map((t) => t.name).sort(byteOrder);
  const out = listLines(`${name}|t`, tags);
  const subjects = new Set<string>();
  for (const d of repo.manifests) {
    const s = inv.manifests[d]?.subject;
    if (s !== undefined) subjects.add(s);
  }
  for (const s of [...subjects].sort(byteOrder)) {
    const hex = s.slice("sha256:".length);
    out.push(...chunkLines(`${name}|r|${hex}`, referrerChunks(referrersOf(inv, repo, s))));
  }
  return out;
}

/** The catalog: every repository name, sorted. */
export function catalogLines(names: readonly string[]): string[] {
  return listLines("|c", [...names].sort(byteOrder));
}
