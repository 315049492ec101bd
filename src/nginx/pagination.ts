/**
 * Precomputed pages for `tags/list` and `_catalog` (`n` and `last`).
 *
 * nginx cannot slice a list at request time, but it can look a string up in a
 * map and cut a prefix off it with a regex. So for every position `s` in the
 * sorted list (the start, and the position after each entry, i.e. every
 * possible `last`) we store ONE block: the entries from `s` on, `L(s)` of
 * them. A request with `n` takes the first `min(class(n), L(s))` entries of
 * the block, where class(n) is the largest of 1, 10, 100, 1000 that is ≤ n
 * (no `n`: the whole block). The spec allows fewer than `n` entries as long
 * as a `Link` to the rest follows, and it always does when entries remain.
 *
 * How long is the block at `s`? Long blocks everywhere would cost O(n²)
 * bytes, so:
 *  - at positions that are multiples of 10, 100, 1000 the block holds that
 *    many entries (the largest such class dividing s), elsewhere one entry;
 *    every class then contributes about one copy of the list, so the total
 *    is a few times the list, whatever its length;
 *  - at positions on the "chain" (0, then wherever the previous chain block
 *    ended) the block holds as much as fits: a client that follows the Link
 *    headers without `n`, or with n ≥ 1000, walks the chain and gets full
 *    pages all the way;
 *  - no block is longer than what nginx's config parser takes in one token
 *    (see MAX_TOKEN_BYTES), so a long list without `n` comes in several pages.
 * From a `last` that is not on any boundary a client gets short pages until
 * it reaches one (at most 9 per class), then full ones.
 */
import { MAX_TOKEN_BYTES } from "./escape";

/** Page-size classes, smallest first. Each has a regex in the constants (see maps.ts). */
export const PAGE_CLASSES = [1, 10, 100, 1000] as const;

/** One stored block: the entries after `last` ("" = from the start). */
export interface ListBlock {
  last: string;
  entries: string[];
  /** Whether entries follow after this block. */
  more: boolean;
}

/**
 * The map value of a block: `L`, the entries as JSON strings joined by `,`,
 * then `+` (more entries follow) or `=` (end of the list). Entries come from
 * the name/tag grammar, so they hold no `"`, `\`, `,`, `+`, `=` or `$`.
 */
export function encodeBlock(entries: readonly string[], more: boolean): string {
  return `L${entries.map((e) => `"${e}"`).join(",")}${more ? "+" : "="}`;
}

/** Bytes of the block's value as an nginx token (quoted). */
function blockBytes(entryBytes: number, count: number): number {
  // quotes around the token, "L", two quotes per entry, commas, terminator
  return 2 + 1 + entryBytes + 2 * count + Math.max(0, count - 1) + 1;
}

/**
 * Every block of a sorted list. `budget` is the largest value token in bytes
 * (the key needs room too, but keys and values are separate tokens).
 */
export function listBlocks(entries: readonly string[], budget = MAX_TOKEN_BYTES): ListBlock[] {
  const m = entries.length;
  const bytes = entries.map((e) => Buffer.byteLength(e));

  /** How many entries from `s` fit in one token, at most `cap`. Always ≥ 1 while entries remain. */
  const fit = (s: number, cap: number): number => {
    let k = 0;
    let sum = 0;
    while (s + k < m && k < cap) {
      if (k > 0 && blockBytes(sum + bytes[s + k], k + 1) > budget) break;
      sum += bytes[s + k];
      k++;
    }
    return k;
  };

  const chain = new Set<number>();
  for (let c = 0; ; c += fit(c, Infinity)) {
    chain.add(c);
    if (c >= m) break;
  }

  const blocks: ListBlock[] = [];
  for (let s = 0; s <= m; s++) {
    const cap = chain.has(s) ? Infinity : largestClassDividing(s);
    const len = fit(s, cap);
    blocks.push({
      last: s === 0 ? "" : entries[s - 1],
      entries: entries.slice(s, s + len),
      more: s + len < m,
    });
  }
  return blocks;
}

function largestClassDividing(s: number): number {
  for (let i = PAGE_CLASSES.length - 1; i >= 0; i--) if (s % PAGE_CLASSES[i] === 0) return PAGE_CLASSES[i];
  return 1;
}

/** The class of page sizes a request's `n` falls in: 0 for n=0, undefined for no `n` (whole blocks). */
export function pageClass(n: number | undefined): number | undefined {
  if (n === undefined) return undefined;
  let c = 0;
  for (const k of PAGE_CLASSES) if (n >= k) c = k;
  return c;
}

/**
 * What nginx answers (the same computation as the regexes in maps.ts, for
 * tests and documentation): the entries of one page and the `last` of the
 * Link to the next page, if any. `undefined` when `last` is not in the list.
 */
export function servePage(
  blocks: readonly ListBlock[],
  n: number | undefined,
  last: string,
): { entries: string[]; next?: string } | undefined {
  const block = blocks.find((b) => b.last === last);
  if (!block) return undefined;
  const c = pageClass(n);
  if (c === 0) return { entries: [] };
  const take = c === undefined ? block.entries.length : Math.min(c, block.entries.length);
  const entries = block.entries.slice(0, take);
  const more = take < block.entries.length || block.more;
  return more && entries.length > 0 ? { entries, next: entries[entries.length - 1] } : { entries };
}
