/**
 * How the mirror script runs the provenance step: this package's own CLI
 * (`provenance`, an internal command) with the image's upstream repository,
 * its tag directory and the skopeo options, to which the script appends the
 * digest and the directory the image is in (known only when it runs). Keys
 * travel in the environment (SCR_VERIFY_KEYS, a JSON list of `{name, text}`),
 * so the script text only says that a signature is required.
 *
 * The CLI and the component build the step with the same function, so the
 * command a component registers is the one the CLI runs.
 */
import * as path from "node:path";
import type { MirrorItem } from "../mirror/plan";
import { tagDir } from "../mirror/script";
import type { SkopeoOptions } from "../mirror/skopeo";

/** The environment variable that carries the public keys (JSON: `[{name, text}]`). */
export const VERIFY_KEYS_ENV = "SCR_VERIFY_KEYS";

/** node and this package's CLI launcher (bin/ beside dist/). */
export function selfArgv(): string[] {
  return [process.execPath, path.resolve(__dirname, "..", "..", "..", "bin", "static-container-registry.js")];
}

/** The argv the mirror script runs for `item` (it appends `--digest D --image-dir DIR`). */
export function provenanceArgv(
  item: MirrorItem,
  root: string,
  o: SkopeoOptions,
  requireSignature: boolean,
  self: readonly string[] = selfArgv(),
): string[] {
  const argv = [
    ...self,
    "provenance",
    "--ref",
    item.canonical,
    "--source",
    `${item.ref.host}/${item.ref.path}`,
    "--dest",
    tagDir(root, item),
    "--retries",
    String(o.retries),
  ];
  if (o.registriesConf) argv.push("--registries-conf", o.registriesConf);
  if (requireSignature) argv.push("--require-signature");
  return argv;
}

/** The keys as the environment carries them. */
export function verifyKeysEnv(keys: readonly { name: string; text: string }[]): string {
  return JSON.stringify(keys.map((k) => ({ name: k.name, text: k.text })));
}
