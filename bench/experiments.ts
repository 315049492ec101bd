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
    {
      name: "access_log buffered + manifest record parsed once",
      description:
        'As *access_log buffered*, and in the manifests location one `if ($scr_obj !~ "^M(?<scr_mc>[^|]*+)\\|(?<scr_md>[0-9a-f]{64})\\|(?<scr_mf>.++)$")` ' +
        "replaces the three regex maps `$scr_mfile`, `$scr_mdigest`, `$scr_mcode` over the record (each map lower-cases " +
        "the ~150-byte record with ngx_hash_strlow before running its regex).",
      edit: (files) => {
        let out = replaceDirective(
          /^(\s*)access_log\s+\/dev\/stdout\s*;/gm,
          "$1access_log /dev/stdout combined buffer=64k flush=1s;",
        )(files);
        out = replaceText(
          /if \(\$scr_mfile = ""\) \{/,
          'if ($scr_obj !~ "^M(?<scr_mc>[^|]*+)\\|(?<scr_md>[0-9a-f]{64})\\|(?<scr_mf>.++)$") {',
        )(out);
        out = replaceText(/alias \$scr_mfile;/, "alias $scr_mf;")(out);
        out = replaceText(
          /add_header Docker-Content-Digest \$scr_mdigest;/,
          "add_header Docker-Content-Digest sha256:$scr_md;",
        )(out);
        out = replaceText(/add_header ETag '"\$scr_mdigest"';/, `add_header ETag '"sha256:$scr_md"';`)(out);
        out = replaceText(/map \$scr_mcode \$scr_mtype \{/, "map $scr_mc $scr_mtype {")(out);
        return replaceText(/default \$scr_mcode;/, "default $scr_mc;")(out);
      },
    },
  ];
}

/** Replaces the first match of `re` (no flags) in the file that has it; fails when none has. */
const replaceText =
  (re: RegExp, by: string) =>
  (files: Record<string, string>): Record<string, string> => {
    const name = Object.keys(files).find((k) => re.test(files[k]));
    if (!name) throw new Error(`experiment edit ${re} matches nothing in the rendered config`);
    return { ...files, [name]: files[name].replace(re, () => by) };
  };
