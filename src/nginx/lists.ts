/**
 * The rule of the list endpoints (`GET /v2/<name>/tags/list`, `GET /v2/_catalog`),
 * as the OCI distribution spec v1.1 states it, in one place:
 *
 *  - entries in lexical (byte) order;
 *  - `last`: only the entries strictly after it in that order, whether or not
 *    it is itself an entry;
 *  - `n`: exactly min(n, remaining) entries, and a `Link` to the next page
 *    exactly when entries remain after them; `n=0` is an empty list (a Link
 *    could not move on, so there is none); without `n`, the whole rest;
 *  - `n` that is not a non-negative decimal integer is an error
 *    (PAGINATION_NUMBER_INVALID). An empty `n=` counts as no `n`.
 *
 * This module is the reference: the njs handlers nginx runs (njs.ts) implement
 * the same rule over chunked data, and the tests hold both to this one.
 */

/** The entries of one answer, and the `last` of the Link to the next page when more remain. */
export interface ListPage {
  entries: string[];
  next?: string;
}

/** `n` as the request gave it: a number, undefined (absent or empty), or null when malformed. */
export function parsePageSize(raw: string | undefined): number | undefined | null {
  if (raw === undefined || raw === "") return undefined;
  return /^[0-9]+$/.test(raw) ? Number(raw) : null;
}

/** Byte order of ASCII strings (and of any string against ASCII entries): plain code unit order. */
export function byteCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One page of a sorted list. */
export function listPage(
  sorted: readonly string[],
  n: number | undefined,
  last: string | undefined,
): ListPage {
  let from = 0;
  if (last !== undefined) {
    // First entry strictly after `last` (binary search: lists have 10,000s of entries).
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] > last) hi = mid;
      else lo = mid + 1;
    }
    from = lo;
  }
  const to = n === undefined ? sorted.length : Math.min(sorted.length, from + n);
  const entries = sorted.slice(from, to);
  return to < sorted.length && entries.length > 0
    ? { entries, next: entries[entries.length - 1] }
    : { entries };
}

/** The Link header of a page that has a next one: `n` first, then `last` (URL-encoded), as the spec writes it. */
export function nextLink(path: string, n: number, next: string): string {
  return `<${path}?n=${n}&last=${encodeURIComponent(next)}>; rel="next"`;
}
