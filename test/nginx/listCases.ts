/**
 * The table of the list tests: every kind of `last` the spec talks about, for
 * a sorted list. Shared by the unit tests (lists.test.ts) and the real-nginx
 * tests (serve.test.ts), so both check the same cases.
 */
/** Every kind of `last` the spec talks about, for a sorted list. */
export function lastCases(list: readonly string[]): { description: string; last: string | undefined }[] {
  const cases: { description: string; last: string | undefined }[] = [
    { description: "no last", last: undefined },
    { description: "before the first entry", last: "" },
    { description: "before the first entry (a smaller string)", last: "+" },
    { description: "after the last entry", last: "~~~" },
    { description: "not an entry, between two entries", last: `${list[0] ?? "a"}-between` },
    { description: "not an entry, upper case sorts first", last: "Z" },
    // Text that spans entries of a stored chunk ("a","b"): must not be taken for a match.
    {
      description: "not an entry, quotes and a comma spanning two entries",
      last: list.slice(0, 3).join('","') || 'a","b',
    },
    { description: "not an entry, a comma between quotes", last: '","' },
  ];
  const pick =
    list.length <= 12
      ? list.map((_, i) => i)
      : [0, 1, list.length >> 1, list.length - 2, list.length - 1].filter((i) => i >= 0);
  for (const i of pick) cases.push({ description: `entry #${i} (${list[i]})`, last: list[i] });
  return cases;
}
