/**
 * `demo`: the registry at work on a machine with no network and no images —
 * it writes a small images dir (src/demo: a multi-arch index in an OCI
 * layout, a runnable image, a skopeo dir: tree), serves it exactly as `serve`
 * does, and prints how to pull from it. The images go to a temp dir that is
 * removed when the demo stops, or to --dir, which is kept.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildDemoTree, type DemoImage } from "../demo/tree";
import { parseListen } from "./common";
import { UsageError } from "./errors";
import { runServe, type ServeOptions } from "./serve";

export interface DemoOptions extends Pick<ServeOptions, "listen" | "nginx" | "accessLog" | "metricsListen"> {
  /** Where to write the images (kept); default a temp dir removed at exit. */
  dir?: string;
}

export async function runDemo(opts: DemoOptions): Promise<number> {
  const { host, port } = parseListen(opts.listen);
  const keep = opts.dir !== undefined;
  const root = keep
    ? path.resolve(opts.dir!)
    : fs.mkdtempSync(path.join(os.tmpdir(), "static-container-registry-demo-"));
  if (keep && fs.existsSync(root) && fs.readdirSync(root).length > 0)
    throw new UsageError(
      `--dir ${opts.dir}: not empty; the demo writes its images into an empty or new directory`,
    );
  try {
    const images = await buildDemoTree(path.join(root, "images"));
    const shown = host === "0.0.0.0" || host === "[::]" ? "127.0.0.1" : host;
    const onReady = () =>
      process.stderr.write(demoText(`${shown}:${port}`, path.join(root, "images"), images, keep));
    return await runServe(path.join(root, "images"), { ...opts, onReady });
  } finally {
    if (!keep) fs.rmSync(root, { recursive: true, force: true });
  }
}

/** What the demo prints once the registry answers: the images, the pull commands, the catalog. */
export function demoText(hostPort: string, root: string, images: DemoImage[], kept: boolean): string {
  const width = Math.max(...images.map((i) => i.reference.length));
  const hello = images.find((i) => i.runnable)!;
  const notes = images.find((i) => !i.runnable)!;
  const lines = [
    "",
    `demo images in ${root}${kept ? "" : " (removed when the demo stops; --dir DIR keeps them)"}:`,
    ...images.map(
      (i) =>
        `  ${i.reference.padEnd(width)}  ${i.layout}, ${i.platforms.join(" + ")}${i.runnable ? ", runnable" : ""}  ${i.digest}`,
    ),
    "",
    "pull from it (plain HTTP on the loopback address):",
    `  skopeo copy --src-tls-verify=false docker://${hostPort}/${hello.reference} dir:/tmp/hello`,
    `  skopeo inspect --tls-verify=false docker://${hostPort}/${notes.reference}`,
    `  ctr images pull --plain-http ${hostPort}/${hello.reference}`,
    `  podman run --rm --tls-verify=false ${hostPort}/${hello.reference}`,
    `  docker run --rm ${hostPort}/${hello.reference}    (docker allows plain HTTP to 127.0.0.0/8)`,
    `  ${hostPort}/${hello.reference.split(":")[0]}@${hello.digest}    (by digest)`,
    "",
    `catalog: http://${hostPort}/    the registry API: http://${hostPort}/v2/_catalog`,
    "",
  ];
  return lines.join("\n");
}
