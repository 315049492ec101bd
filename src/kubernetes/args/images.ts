/**
 * The images: the directory they are read from on the machine that runs
 * Pulumi, and how it is scanned. (The list mirrored into it first is
 * mirror.ts's; the names they are served under, rendering.ts's.)
 */
import * as fs from "node:fs";
import { checkBooleans, isOutputOrPromise, type ArgTable } from "./common";

/** Where the images are read. */
export interface ImagesArgs {
  /**
   * The images directory (skopeo `dir:` tree and/or OCI image layouts), read on
   * the machine that runs Pulumi when the component is constructed. A tree with
   * problems fails the preview with the full problem list. The pods see the
   * same content through the storage below; the drift guard checks that they do.
   * Plain: scanned at construction.
   */
  imagesDir: string;
}

/** How the images dir is scanned. */
export interface ScanArgs {
  /** Hash every blob while scanning (slow on large trees). Manifests are always hashed. Plain: a scan option. */
  verify?: boolean;
}

export const IMAGES_ARGS: ArgTable<ImagesArgs> = {
  imagesDir: "it is scanned at construction",
};

export const SCAN_ARGS: ArgTable<ScanArgs> = {
  verify: "it is a scan option",
};

/**
 * `imagesDir`: a plain path to a directory, read now. With an image list it
 * may not exist yet (the mirror commands create it).
 */
export function checkImagesDir(
  args: ImagesArgs & { images?: unknown; imagesFile?: unknown },
  problems: string[],
): void {
  if (typeof args.imagesDir !== "string" || args.imagesDir === "") {
    if (!isOutputOrPromise(args.imagesDir))
      problems.push(
        "imagesDir is required: the images directory on the machine running Pulumi (a plain string, not an Output)",
      );
    return;
  }
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(args.imagesDir);
  } catch {
    if (args.images === undefined && args.imagesFile === undefined)
      problems.push(`imagesDir "${args.imagesDir}" does not exist`);
  }
  if (st && !st.isDirectory()) problems.push(`imagesDir "${args.imagesDir}" is not a directory`);
}

/** `verify`: a plain true or false. */
export function checkScan(args: ScanArgs, problems: string[]): { verify: boolean } {
  checkBooleans(args, ["verify"], problems);
  return { verify: args.verify ?? false };
}
