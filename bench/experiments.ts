/**
 * Before/after experiments on a COPY of the rendered config (the product is
 * not changed): each variant is one edit to the rendered files, measured
 * against bare nginx with the same requests.
 */
export interface Variant {
  name: string;
  description: string;
  edit: (files: Record<string, string>, main: string) => Record<string, string>;
}

/** Replaces a directive in every rendered file; fails loudly when no file has it any more. */
const replaceDirective =
  (re: RegExp, by: string) =>
  (files: Record<string, string>): Record<string, string> => {
    if (!Object.values(files).some((t) => new RegExp(re.source, re.flags).test(t))) {
      throw new Error(`experiment edit ${re} matches nothing in the rendered config`);
    }
    return Object.fromEntries(Object.entries(files).map(([k, v]) => [k, v.replace(re, by)]));
  };

export function experimentVariants(): Variant[] {
  return [
    {
      name: "as rendered",
      description:
        "The rendered config, unchanged (one worker): `access_log /dev/stdout;` unbuffered, open_file_cache on.",
      edit: (files) => files,
    },
    {
      name: "access_log off",
      description: "`access_log /dev/stdout;` → `access_log off;`.",
      edit: replaceDirective(/^(\s*)access_log\s+[^;]+;/gm, "$1access_log off;"),
    },
    {
      name: "access_log buffered",
      description:
        "`access_log /dev/stdout;` → `access_log /dev/stdout combined buffer=64k flush=1s;` (one write per 64 KiB or per second instead of one per request).",
      edit: replaceDirective(
        /^(\s*)access_log\s+\/dev\/stdout\s*;/gm,
        "$1access_log /dev/stdout combined buffer=64k flush=1s;",
      ),
    },
    {
      name: "open_file_cache off",
      description:
        "The three `open_file_cache*` directives removed (what the rendered config gains from them).",
      edit: replaceDirective(/^\s*open_file_cache(?:_valid|_errors)?\s+[^;]+;\n/gm, ""),
    },
  ];
}
