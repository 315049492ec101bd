/**
 * The list rule (src/nginx/lists.ts) against the spec's own words, and the njs
 * module nginx runs (src/nginx/njs.ts, on its chunked data) against that rule:
 * every n from 0 to count+1 × every kind of `last` (each entry, before the
 * first, after the last, between two entries, not an entry), with the Link
 * header, on lists small and large, stored in one chunk and in many.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { byteOrder } from "../../src/inventory/model";
import { listLines } from "../../src/nginx/listData";
import { listPage, nextLink, parsePageSize } from "../../src/nginx/lists";
import { lastCases } from "./listCases";
import { listMap, runNjs } from "./njsSim";

/** The spec, literally: entries strictly after last, then the first n. */
function spec(list: readonly string[], n: number | undefined, last: string | undefined) {
  const rest = list.filter(
    (e) => last === undefined || Buffer.compare(Buffer.from(e), Buffer.from(last)) > 0,
  );
  const entries = n === undefined ? rest : rest.slice(0, n);
  return { entries, more: entries.length < rest.length, remaining: rest.length };
}

function tags(count: number, upper = false): string[] {
  const out = Array.from({ length: count }, (_, i) => `v${String(i).padStart(5, "0")}`);
  if (upper && count > 0) out[count >> 1] = "Latest";
  return out.sort(byteOrder);
}

describe("list rule (lists.ts)", () => {
  test("parsePageSize: digits, absent/empty, malformed", () => {
    const cases = [
      { raw: undefined, want: undefined },
      { raw: "", want: undefined },
      { raw: "0", want: 0 },
      { raw: "007", want: 7 },
      { raw: "10000", want: 10000 },
      { raw: "-1", want: null },
      { raw: "1.5", want: null },
      { raw: "abc", want: null },
      { raw: " 1", want: null },
      { raw: "1e3", want: null },
    ];
    for (const c of cases) assert.equal(parsePageSize(c.raw), c.want, JSON.stringify(c.raw));
  });

  test("every n from 0 to count+1 × every last, as the spec words it", () => {
    for (const list of [[], ["a"], tags(4), tags(4, true), tags(37)]) {
      for (const { description, last } of lastCases(list)) {
        for (const n of [undefined, ...Array.from({ length: list.length + 2 }, (_, i) => i)]) {
          const want = spec(list, n, last);
          const got = listPage(list, n, last);
          const what = `count=${list.length} n=${n} last=${description}`;
          assert.deepEqual(got.entries, want.entries, what);
          assert.equal(got.next !== undefined, want.more && want.entries.length > 0, `${what}: Link`);
          if (got.next !== undefined) assert.equal(got.next, got.entries.at(-1), `${what}: Link last`);
          if (n !== undefined)
            assert.equal(got.entries.length, Math.min(n, want.remaining), `${what}: min(n, remaining)`);
        }
      }
    }
  });

  test("the Link: n first, last URL-encoded", () => {
    assert.equal(nextLink("/v2/a/tags/list", 2, "v1"), '</v2/a/tags/list?n=2&last=v1>; rel="next"');
    assert.equal(
      nextLink("/v2/_catalog", 1, "library/alpine"),
      '</v2/_catalog?n=1&last=library%2Falpine>; rel="next"',
    );
  });
});

describe("the njs module agrees with the rule", () => {
  const cases = [
    // index: whether the list's head holds each chunk's first entry (else njs reads the chunks).
    { description: "4 tags, one chunk", list: tags(4), budget: undefined, index: false },
    {
      description: "4 tags with an upper-case one, a chunk per tag",
      list: tags(4, true),
      budget: 10,
      index: false,
    },
    { description: "37 tags in chunks of 2", list: tags(37), budget: 22, index: false },
    {
      description: "1,000 tags in 3 chunks, their first tags in the head",
      list: tags(1000),
      budget: undefined,
      index: true,
    },
    {
      description: "1,000 tags in 28 chunks, their first tags in the head",
      list: tags(1000),
      budget: 300,
      index: true,
    },
  ];
  for (const c of cases) {
    test(`tags/list: ${c.description}`, () => {
      const map = listMap(listLines("repo/x|t", c.list, c.budget));
      assert.equal(
        (map.get("repo/x|t") ?? "").includes("|"),
        c.index,
        "the head holds the chunks' first tags",
      );
      const ns = Array.from({ length: c.list.length + 2 }, (_, i) => i);
      const sizes = c.list.length > 100 ? [0, 1, 2, 9, 10, 99, 100, 500, 998, 999, 1000, 1001] : ns;
      for (const { description, last } of lastCases(c.list)) {
        for (const n of [undefined, ...sizes]) {
          const args: Record<string, string> = {};
          if (n !== undefined) args.n = String(n);
          if (last !== undefined) args.last = last;
          const got = runNjs("tags", map, { scr_name: "repo/x" }, args);
          const want = listPage(c.list, n, last);
          const what = `n=${n} last=${description}`;
          assert.equal(got.status, 200, what);
          assert.deepEqual(JSON.parse(got.body!), { name: "repo/x", tags: want.entries }, what);
          assert.equal(
            got.headers.Link,
            want.next === undefined ? undefined : nextLink("/v2/repo/x/tags/list", n!, want.next),
            `${what}: Link`,
          );
        }
      }
    });
  }

  test("tags/list: malformed n is PAGINATION_NUMBER_INVALID, empty n is no n, a repeated one counts once", () => {
    const map = listMap(listLines("r|t", tags(4)));
    for (const n of ["abc", "-1", "1.5", "0x10"]) {
      const got = runNjs("tags", map, { scr_name: "r" }, { n });
      assert.deepEqual([got.status, got.err, got.body], [400, "PAGINATION_NUMBER_INVALID", undefined], n);
    }
    assert.deepEqual(JSON.parse(runNjs("tags", map, { scr_name: "r" }, { n: "" }).body!).tags, tags(4));
    const twice = { n: ["2", "3"] } as unknown as Record<string, string>;
    assert.deepEqual(
      JSON.parse(runNjs("tags", map, { scr_name: "r" }, twice).body!).tags,
      tags(4).slice(0, 2),
    );
  });

  test("a repository without tags, and _catalog", () => {
    const empty = runNjs("tags", listMap([]), { scr_name: "r" }, {});
    assert.deepEqual(JSON.parse(empty.body!), { name: "r", tags: [] });
    const names = ["a/b", "a/c", "library/alpine", "z"];
    const map = listMap(listLines("|c", names));
    const got = runNjs("catalog", map, {}, { n: "1", last: "a/b" });
    assert.deepEqual(JSON.parse(got.body!), { repositories: ["a/c"] });
    assert.equal(got.headers.Link, '</v2/_catalog?n=1&last=a%2Fc>; rel="next"');
    assert.deepEqual(JSON.parse(runNjs("catalog", listMap([]), {}, {}).body!), { repositories: [] });
  });
});
