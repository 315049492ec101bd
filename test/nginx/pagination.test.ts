/**
 * The pagination scheme (pagination.ts), on its model: every walk that
 * follows the Link headers returns every entry after `last` exactly once, in
 * order, never more than n per page; the stored blocks stay a few times the
 * list; every block fits in one nginx token. The real-nginx test checks that
 * nginx's answers are this model's.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { byteOrder } from "../../src/inventory/model";
import { MAX_TOKEN_BYTES, token } from "../../src/nginx/escape";
import { encodeBlock, listBlocks, pageClass, servePage, type ListBlock } from "../../src/nginx/pagination";

function tags(m: number, width = 6): string[] {
  return Array.from({ length: m }, (_, i) => `t${String(i).padStart(width, "0")}`).sort(byteOrder);
}

/** Follows the Links from `last`, as a client does. */
function walk(
  blocks: ListBlock[],
  n: number | undefined,
  last: string,
): { entries: string[]; pages: number[] } {
  const entries: string[] = [];
  const pages: number[] = [];
  for (let cursor: string | undefined = last, i = 0; cursor !== undefined; i++) {
    const page = servePage(blocks, n, cursor);
    assert.ok(page, `last=${cursor} is a key`);
    entries.push(...page.entries);
    pages.push(page.entries.length);
    if (page.next !== undefined) assert.ok(page.entries.length > 0, "a Link only after entries");
    cursor = page.next;
    assert.ok(i < 100000, "the walk ends");
  }
  return { entries, pages };
}

describe("pagination", () => {
  test("page classes", () => {
    assert.equal(pageClass(undefined), undefined);
    assert.deepEqual(
      [0, 1, 9, 10, 99, 100, 999, 1000, 123456].map(pageClass),
      [0, 1, 1, 10, 10, 100, 100, 1000, 1000],
    );
  });

  test("every walk returns the rest of the list, once, in order, at most n per page", () => {
    for (const m of [0, 1, 2, 9, 10, 11, 99, 100, 101, 1000, 1001, 2345]) {
      const list = tags(m);
      const blocks = listBlocks(list);
      assert.equal(blocks.length, m + 1, "a block for the start and after every entry");
      const starts =
        m <= 101 ? ["", ...list] : ["", list[0], list[8], list[99], list[100], list[m - 2], list[m - 1]];
      for (const n of [undefined, 1, 2, 9, 10, 11, 99, 100, 101, 999, 1000, 5000]) {
        if (m > 1000 && n !== undefined && n < 10) continue; // slow, and covered by smaller lists
        for (const s of starts) {
          const { entries, pages } = walk(blocks, n, s);
          const from = s === "" ? 0 : list.indexOf(s) + 1;
          assert.deepEqual(entries, list.slice(from), `m=${m} n=${n} last=${s}`);
          if (n !== undefined) assert.ok(Math.max(0, ...pages) <= n, `m=${m} n=${n}: at most n`);
        }
      }
      assert.deepEqual(servePage(blocks, 0, ""), { entries: [] }, "n=0: empty, no Link");
      assert.equal(servePage(blocks, 10, "not-in-the-list"), undefined);
    }
  });

  test("from the start, pages are full: n when n is a class, and as much as fits without n", () => {
    const list = tags(5000);
    const blocks = listBlocks(list);
    for (const n of [1, 10, 100]) {
      const { pages } = walk(blocks, n, "");
      assert.ok(
        pages.slice(0, -1).every((p) => p === n),
        `n=${n}`,
      );
    }
    const { pages } = walk(blocks, undefined, "");
    const perPage = pages[0];
    assert.ok(perPage > 100, `${perPage} entries in a full page`);
    assert.ok(
      pages.slice(0, -1).every((p) => p === perPage),
      "without n, every page but the last is full",
    );
  });

  test("the stored blocks are a few times the list, and each fits in one token", () => {
    for (const width of [3, 20, 127]) {
      const list = tags(3000, width);
      const blocks = listBlocks(list);
      const stored = blocks.reduce((k, b) => k + b.entries.length, 0);
      assert.ok(stored <= 5 * list.length, `width ${width}: ${stored} stored entries for ${list.length}`);
      for (const b of blocks) {
        const bytes = Buffer.byteLength(token(encodeBlock(b.entries, b.more)));
        assert.ok(bytes <= MAX_TOKEN_BYTES, `block after ${b.last}: ${bytes} bytes`);
      }
    }
  });

  test("a short page from an unaligned last, then full pages again", () => {
    const list = tags(1000);
    const { pages } = walk(listBlocks(list), 100, list[4]);
    // entries 5..9 one by one, then 10s up to 100, then 100s
    assert.deepEqual(pages.slice(0, 5), [1, 1, 1, 1, 1]);
    assert.deepEqual(pages.slice(5, 14), Array(9).fill(10));
    assert.deepEqual(pages.slice(14), [...Array(9).fill(100), 0].slice(0, pages.length - 14));
  });
});
