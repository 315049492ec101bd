/**
 * File fields (src/nginx/files.ts): each form is chosen where it applies, and
 * the map nginx resolves them with gives back exactly the file, for every
 * form. The map text is evaluated here as nginx would: exact key first, then
 * the regexes in order, then the value with its variables substituted.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RenderError } from "../../src/nginx/escape";
import { fileField, fileFieldMap, type FilePlace } from "../../src/nginx/files";

const HEX = "ab".repeat(32);

/** Evaluates the text of fileFieldMap for `field` with the given variables. */
function resolve(field: string, vars: Record<string, string>): string {
  const text = fileFieldMap("$f", "$out", "$hex", "c_");
  const entries = [...text.matchAll(/^ {4}('(?:[^'\\]|\\.)*'|\S+) (\S+);$/gm)].map((m) => ({
    key: m[1].replace(/^'|'$/g, ""),
    value: m[2],
  }));
  const captures: Record<string, string> = {};
  let hit = entries.find((e) => !e.key.startsWith("~") && e.key !== "default" && e.key === field);
  if (!hit) {
    hit = entries.find((e) => {
      if (!e.key.startsWith("~")) return false;
      // PCRE's possessive quantifiers mean the same as plain ones in these anchored patterns.
      const m = new RegExp(e.key.slice(1).replace(/\*\+|\+\+/g, (q) => q[0])).exec(field);
      if (m?.groups) Object.assign(captures, m.groups);
      return m !== null;
    });
  }
  const value = hit?.value ?? '""';
  return value === '""' ? "" : value.replace(/\$(\w+)/g, (_, v: string) => captures[v] ?? vars[v] ?? "");
}

describe("file fields", () => {
  const all: FilePlace = { rootPrefix: "", repoDir: "team/app/" };
  const part: FilePlace = { rootPrefix: "/srv/images/" };
  const cases = [
    {
      description: "a tag's skopeo manifest",
      rel: "team/app/1.0/manifest.json",
      place: all,
      tag: "1.0",
      want: "t",
    },
    {
      description: "the same manifest by digest",
      rel: "team/app/1.0/manifest.json",
      place: all,
      want: "^1.0",
    },
    { description: "a blob named by its digest", rel: `team/app/1.0/${HEX}`, place: all, want: "*1.0" },
    {
      description: "a child manifest written by skopeo copy --all",
      rel: `team/app/1.0/${HEX}.manifest.json`,
      place: all,
      want: "+1.0",
    },
    {
      description: "an OCI layout blob",
      rel: `team/app/blobs/sha256/${HEX}`,
      place: all,
      want: "*blobs/sha256",
    },
    {
      description: "a blob in another repository's directory",
      rel: `team/other/2.0/${HEX}`,
      place: all,
      want: "=team/other/2.0/%",
    },
    {
      description: "a file named by its digest with a suffix of its own",
      rel: `team/app/1.0/${HEX}.json`,
      place: all,
      want: "~1.0/%.json",
    },
    {
      description: "a file not named by its digest",
      rel: "team/app/odd/blob.bin",
      place: all,
      want: "~odd/blob.bin",
    },
    { description: "a path with %", rel: "team/app/100%/x", place: all, want: ":team/app/100%/x" },
    {
      description: "a data part: the root written in",
      rel: `team/app/1.0/${HEX}`,
      place: part,
      want: "=/srv/images/team/app/1.0/%",
    },
    {
      description: "a data part's tag",
      rel: "team/app/1.0/manifest.json",
      place: part,
      tag: "1.0",
      want: "=/srv/images/team/app/1.0/manifest.json",
    },
  ];
  for (const c of cases) {
    test(`${c.description}: ${c.want}, resolved back to the file`, () => {
      const field = fileField(c.rel, HEX, c.place, c.tag);
      assert.equal(field, c.want);
      const vars = {
        scr_root: c.place.rootPrefix ? "" : "/root/",
        scr_rdir: c.place.repoDir ?? "",
        hex: HEX,
        scr_ref: c.tag ?? "",
      };
      const root = c.place.rootPrefix ? "" : "/root/";
      assert.equal(resolve(field, vars), `${root}${c.place.rootPrefix}${c.rel}`);
    });
  }

  test("paths that could leave the root are refused", () => {
    for (const rel of ["", "/etc/passwd", "../x", "a/../../x", "a//b", "a/./b", "a/$x", "a\\b", "a/\nb"]) {
      assert.throws(() => fileField(rel, HEX, all), RenderError, JSON.stringify(rel));
    }
  });
});
