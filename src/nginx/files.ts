/**
 * Where a record's file is: the file field of the lookup map's records
 * (data.ts), written as short as the key it sits under allows, and the maps
 * that turn it back into the path nginx opens (`alias`).
 *
 * The images root is written once (`$scr_root`), not in every record, and a
 * record names its file relative to the root or to its repository's directory
 * (`$scr_rdir`, the inventory name of the repository the URL names). Most
 * files are named by their digest, which the URL (or the tag's record)
 * already holds, so the digest is not written again either:
 *
 *   t          <repository dir><tag of the URL>/manifest.json (skopeo dir: tags)
 *   *<a>       <root><repository dir><a>/<hex>        (a blob in a skopeo dir)
 *   ^<a>       <root><repository dir><a>/manifest.json  (a tag's manifest by digest)
 *   +<a>       <root><repository dir><a>/<hex>.manifest.json  (skopeo's child manifests)
 *   ~<a>%<b>   <root><repository dir><a><hex><b>
 *   ~<a>       <root><repository dir><a>
 *   =<a>%<b>   <root><a><hex><b>
 *   =<a>       <root><a>
 *   :<a>       <root><a>, taken literally (a path that holds "%" itself)
 *
 * A data part merged with other roots (part "data") cannot set `$scr_root`
 * or `$scr_rdir` (its lines go inside the constants' lookup map), so its
 * records use `=`/`:` with the root written in: `$scr_root` is "" there.
 */
import { RenderError } from "./escape";

/** Where the record's file may be written relative to. */
export interface FilePlace {
  /** Written in front of root-relative paths: "" where `$scr_root` holds the root, else the root and "/". */
  rootPrefix: string;
  /** The repository's directory below the root, with "/" (inventory name): when `~` and `t` may be used. */
  repoDir?: string;
}

/** Refuses any path that could leave the images root. */
export function checkRelativePath(rel: string): void {
  if (
    rel === "" ||
    rel.startsWith("/") ||
    rel.split("/").some((seg) => seg === "" || seg === "." || seg === "..") ||
    /[\u0000-\u001f\u007f$\\]/.test(rel)
  ) {
    throw new RenderError(`inventory path ${JSON.stringify(rel)} is not a plain relative path`);
  }
}

/**
 * The file field for the file `rel` (relative to the images root) of the
 * object with digest hex `hex`. `tag`: the record is the one of this tag.
 */
export function fileField(rel: string, hex: string, place: FilePlace, tag?: string): string {
  checkRelativePath(rel);
  const { repoDir, rootPrefix } = place;
  if (rel.includes("%") || rootPrefix.includes("%")) return `:${rootPrefix}${rel}`;
  if (repoDir !== undefined && tag !== undefined && rel === `${repoDir}${tag}/manifest.json`) return "t";
  const [kind, body] =
    repoDir !== undefined && rel.startsWith(repoDir)
      ? ["~", rel.slice(repoDir.length)]
      : ["=", rootPrefix + rel];
  // The digest, when it names the file (blob files, skopeo's <hex>.manifest.json), comes from the request.
  const at = body.lastIndexOf(`/${hex}`) + 1 || (body.startsWith(hex) ? 0 : -1);
  const field =
    at < 0 || body.indexOf(hex) !== at
      ? kind + body
      : `${kind}${body.slice(0, at)}%${body.slice(at + hex.length)}`;
  // The files of a skopeo dir, in a tag's directory: most records, so worth a letter each.
  if (kind === "~") {
    for (const [short, suffix] of SHORT_FORMS) {
      const dir = field.slice(1, -suffix.length);
      if (field.endsWith(suffix) && dir !== "" && !dir.includes("%")) return short + dir;
    }
  }
  return field;
}

/** Short forms of `~<dir><suffix>` fields, as `<letter><dir>`. */
const SHORT_FORMS: readonly (readonly [string, string])[] = [
  ["*", "/%"],
  ["^", "/manifest.json"],
  ["+", "/%.manifest.json"],
];

/**
 * A map from a file field (`src`) to the path to open (`out`), the digest hex
 * taken from `hex` (a variable). `cap` prefixes its regex captures, which are
 * request-wide variables in nginx: each such map needs its own.
 */
export function fileFieldMap(src: string, out: string, hex: string, cap: string): string {
  const c = (s: string) => `${cap}${s}`;
  return `map ${src} ${out} {
    '~^\\*(?<${c("s")}>.++)$' $scr_root$scr_rdir$${c("s")}/${hex};
    '~^\\^(?<${c("m")}>.++)$' $scr_root$scr_rdir$${c("m")}/manifest.json;
    '~^\\+(?<${c("n")}>.++)$' $scr_root$scr_rdir$${c("n")}/${hex}.manifest.json;
    '~^~(?<${c("a")}>[^%]*+)%(?<${c("b")}>.*+)$' $scr_root$scr_rdir$${c("a")}${hex}$${c("b")};
    t $scr_root$scr_rdir$scr_ref/manifest.json;
    '~^~(?<${c("c")}>[^%]*+)$' $scr_root$scr_rdir$${c("c")};
    '~^=(?<${c("d")}>[^%]*+)%(?<${c("e")}>.*+)$' $scr_root$${c("d")}${hex}$${c("e")};
    '~^[=:](?<${c("f")}>.*+)$' $scr_root$${c("f")};
    default "";
}`;
}
