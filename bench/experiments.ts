/**
 * Before/after experiments on a COPY of the rendered config (the product is
 * not changed): each variant is one edit to the rendered files, measured
 * against bare nginx with the same requests, after checking that it answers
 * a set of requests exactly as the rendered config does.
 */
import type { FixtureImage } from "../test/fixtures/build";
import { probe } from "./lib/proc";
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

const logOff = replaceDirective(/^(\s*)access_log\s+[^;]+;/gm, "$1access_log off;");
/** The stdout access log, whatever form render gives it, replaced by `by`. */
const stdoutLog = (by: string) => replaceDirective(/^(\s*)access_log\s+\/dev\/stdout\b[^;]*;/gm, by);

/**
 * The manifests location parses its record (`M<type>|<hex or empty>|<file>`)
 * with one regex in an `if` instead of three regex maps over it; the digest
 * comes from a small map on the captured hex (empty: the URL's digest).
 */
function parseRecordOnce(files: Record<string, string>): Record<string, string> {
  let out = replaceText(
    /if \(\$scr_mfile = ""\) \{/,
    'if ($scr_obj !~ "^M(?<scr_mc>[^|]*+)\\|(?<scr_md>(?:[0-9a-f]{64})?)\\|(?<scr_mf>.++)$") {',
  )(files);
  out = replaceText(/alias \$scr_mfile;/, "alias $scr_mf;")(out);
  out = replaceAll(/\$scr_mdigest\b(?! \{)/g, "$scr_mdig")(out);
  out = replaceText(
    /map \$scr_mcode \$scr_mtype \{/,
    'map $scr_md $scr_mdig {\n        "" $scr_ref;\n        default sha256:$scr_md;\n    }\n    map $scr_mc $scr_mtype {',
  )(out);
  return replaceText(/default \$scr_mcode;/, "default $scr_mc;")(out);
}

/** Replaces every match of a global `re` in every file (literally); fails when nothing matches. */
const replaceAll =
  (re: RegExp, by: string) =>
  (files: Record<string, string>): Record<string, string> => {
    if (!Object.values(files).some((t) => new RegExp(re.source, re.flags).test(t))) {
      throw new Error(`experiment edit ${re} matches nothing in the rendered config`);
    }
    return Object.fromEntries(Object.entries(files).map(([k, v]) => [k, v.replace(re, () => by)]));
  };

export function experimentVariants(): Variant[] {
  return [
    {
      name: "as rendered",
      description: "The rendered config, unchanged (one worker).",
      edit: (files) => files,
    },
    {
      name: "access_log unbuffered",
      description:
        "`access_log /dev/stdout;` (one write(2) per request; what render emitted before bf4a99f).",
      edit: stdoutLog("$1access_log /dev/stdout;"),
    },
    {
      name: "access_log buffered",
      description:
        "`access_log /dev/stdout combined buffer=64k flush=1s;` (one write per 64 KiB or per second).",
      edit: stdoutLog("$1access_log /dev/stdout combined buffer=64k flush=1s;"),
    },
    {
      name: "access_log off",
      description: "Every `access_log …;` → `access_log off;`.",
      edit: logOff,
    },
    {
      name: "open_file_cache off",
      description:
        "The three `open_file_cache*` directives removed (what the rendered config gains from them).",
      edit: replaceDirective(/^\s*open_file_cache(?:_valid|_errors)?\s+[^;]+;\n/gm, ""),
    },
    {
      name: "manifest record parsed once",
      description:
        'In the manifests location one `if ($scr_obj !~ "^M(?<scr_mc>[^|]*+)\\|(?<scr_md>[0-9a-f]{64})\\|(?<scr_mf>.++)$")` ' +
        "replaces the three regex maps `$scr_mfile`, `$scr_mdigest`, `$scr_mcode` over the record (each map lower-cases " +
        "the ~150-byte record with ngx_hash_strlow, then runs its own regex); access log as rendered.",
      edit: parseRecordOnce,
    },
    {
      name: "access_log off + manifest record parsed once",
      description: "*access_log off* and *manifest record parsed once* together.",
      edit: (files) => parseRecordOnce(logOff(files)),
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

/** Requests whose answers (status, body length, headers but Date) a variant must not change. */
export function answerProbes(
  images: FixtureImage[],
): { method: string; path: string; headers?: Record<string, string> }[] {
  const bb = images.find((i) => i.reference === "busybox:1.36");
  const multi = images.find((i) => i.reference === "multi/oci-index:1.0");
  if (!bb?.config || !multi) throw new Error("fixture tree lacks busybox:1.36 or multi/oci-index:1.0");
  const accept = {
    Accept:
      "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
  };
  return [
    { method: "GET", path: "/v2/busybox/manifests/1.36", headers: accept },
    { method: "HEAD", path: "/v2/busybox/manifests/1.36", headers: accept },
    { method: "GET", path: `/v2/busybox/manifests/${bb.digest}`, headers: accept },
    { method: "GET", path: "/v2/multi/oci-index/manifests/1.0", headers: accept },
    { method: "GET", path: `/v2/multi/oci-index/manifests/${multi.children[0].digest}`, headers: accept },
    {
      method: "GET",
      path: "/v2/busybox/manifests/1.36",
      headers: { ...accept, "If-None-Match": `"${bb.digest}"` },
    },
    { method: "GET", path: "/v2/busybox/manifests/no-such-tag" },
    { method: "GET", path: "/v2/no/such/manifests/1" },
    { method: "GET", path: `/v2/busybox/blobs/${bb.config.digest}` },
    { method: "GET", path: "/v2/busybox/tags/list" },
  ];
}

/** The first probe on which two servers answer differently, or undefined. */
export async function firstDifference(
  a: number,
  b: number,
  probes: ReturnType<typeof answerProbes>,
): Promise<string | undefined> {
  const answer = async (port: number, p: (typeof probes)[number]) => {
    const r = await probe(port, p.method, p.path, p.headers);
    const headers = Object.entries(r.headers)
      .filter(([k]) => !["date", "connection", "keep-alive"].includes(k))
      .sort();
    return JSON.stringify({ status: r.status, bytes: r.bytes, headers });
  };
  for (const p of probes) {
    const [x, y] = [await answer(a, p), await answer(b, p)];
    if (x !== y) return `${p.method} ${p.path}: ${x} vs ${y}`;
  }
  return undefined;
}
