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

/** Applies `f` to every rendered file. */
const eachFile = (f: (text: string, name: string) => string) => (files: Record<string, string>) =>
  Object.fromEntries(Object.entries(files).map(([k, v]) => [k, f(v, k)]));

export function experimentVariants(): Variant[] {
  return [
    {
      name: "as rendered",
      description: "The rendered config, unchanged (one worker).",
      edit: (files) => files,
    },
    {
      name: "access_log off",
      description: "Every `access_log …;` directive replaced by `access_log off;`.",
      edit: eachFile((t) => t.replace(/^(\s*)access_log\s+[^;]+;/gm, "$1access_log off;")),
    },
    {
      name: "open_file_cache",
      description:
        "`open_file_cache max=20000 inactive=60s; open_file_cache_valid 60s; open_file_cache_errors on;` added to the http block.",
      edit: (files, main) => ({
        ...files,
        [main]: files[main].replace(
          /^(\s*)http\s*\{/m,
          "$&\n    open_file_cache max=20000 inactive=60s;\n    open_file_cache_valid 60s;\n    open_file_cache_errors on;",
        ),
      }),
    },
  ];
}
