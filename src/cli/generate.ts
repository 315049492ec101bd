import * as fs from "node:fs";
import * as path from "node:path";
import { scan } from "../inventory";
import { renderInclude, renderSharedInclude, renderStandalone, type RenderOptions } from "../nginx";
import type { AccessLogFormat } from "../nginx/accessLog";
import { NJS_MODULE } from "../nginx/njs";
import { loadInventory, normalizePrefix, parseListen, printWarnings, requireClean } from "./common";
import { shCommand } from "../shell";
import { UsageError } from "./errors";
import { tlsFromFlags, type TlsFlags } from "./tls";

export interface GenerateOptions extends TlsFlags {
  namePrefix?: string;
  serverRoot?: string;
  omitConstants?: boolean;
  onlyConstants?: boolean;
  dataInclude?: string;
  listsInclude?: string;
  http?: boolean;
  lists?: boolean;
  js?: boolean;
  jsModule?: string;
  mapHashSizes?: boolean;
  standalone?: boolean;
  /** The catalog page at / (commander's --no-ui sets false). */
  ui?: boolean;
  listen: string;
  runtimeDir: string;
  configDir?: string;
  output?: string;
  accessLog?: AccessLogFormat;
  metricsListen?: string;
}

/**
 * `generate`: the include (server part by default, `--http` for the maps,
 * `--js` for the njs module the maps import, `--lists` for a data part's list
 * entries), or with `--standalone` a complete config. Writes nothing when the
 * tree has problems.
 */
export async function runGenerate(root: string | undefined, opts: GenerateOptions): Promise<number> {
  if ((opts.tlsCert || opts.tlsKey) && !opts.standalone)
    throw new UsageError(
      "--tls-cert and --tls-key need --standalone (the include goes into a server of yours)",
    );
  if (opts.metricsListen !== undefined && !opts.standalone)
    throw new UsageError("--metrics-listen needs --standalone (the include goes into a server of yours)");
  const tls = tlsFromFlags(opts);
  if (opts.ui === false && !opts.standalone)
    throw new UsageError(
      "--no-ui goes with --standalone or --into DIR --shared: the include has no page (it knows no directory to serve it from)",
    );
  if (opts.lists && !opts.omitConstants) throw new UsageError("--lists goes with --omit-constants");
  // The parts that are the same for every images root read none (ROOT, if given, is not scanned).
  if (!opts.standalone && (opts.js || opts.onlyConstants)) {
    const shared = renderSharedInclude({
      dataInclude: opts.dataInclude,
      listsInclude: opts.listsInclude,
      jsModule: opts.jsModule,
      mapHashSizes: opts.mapHashSizes,
    });
    output(opts.output, opts.js ? NJS_MODULE : opts.http ? shared.http : shared.server);
    return 0;
  }
  const inv = await loadInventory(root ?? ".", scan);
  requireClean(inv);
  printWarnings(inv);
  const base: RenderOptions = {
    namePrefix: normalizePrefix(opts.namePrefix),
    serverRoot: opts.serverRoot,
    part: opts.onlyConstants ? "constants" : opts.omitConstants ? "data" : "all",
    dataInclude: opts.dataInclude,
    listsInclude: opts.listsInclude,
    jsModule: opts.jsModule,
    mapHashSizes: opts.mapHashSizes,
  };

  if (opts.standalone) {
    parseListen(opts.listen);
    const configDir = path.resolve(opts.configDir ?? opts.output ?? path.join(opts.runtimeDir, "conf"));
    const runtimeDir = path.resolve(opts.runtimeDir);
    const rendered = renderStandalone(inv, {
      ...base,
      listen: opts.listen,
      runtimeDir,
      configDir,
      tls,
      ui: opts.ui,
      accessLogFormat: opts.accessLog,
      metricsListen: opts.metricsListen,
    });
    const names = Object.keys(rendered.files);
    if (!opts.output) {
      if (names.length > 1) {
        throw new UsageError(
          `the standalone config is ${names.length} files (${names.join(", ")}); use -o DIR`,
        );
      }
      process.stdout.write(rendered.files[rendered.main]);
      return 0;
    }
    writeFilesAtomically(opts.output, rendered.files);
    process.stderr.write(
      `wrote ${names.length} file(s) to ${opts.output}; run: ${shCommand(["mkdir", "-p", runtimeDir])} && ${shCommand(["nginx", "-c", path.join(configDir, rendered.main), "-p", runtimeDir, "-e", "stderr"])}\n`,
    );
    return 0;
  }

  const include = renderInclude(inv, base);
  output(opts.output, opts.lists ? include.lists : opts.http ? include.http : include.server);
  return 0;
}

function output(file: string | undefined, text: string): void {
  if (file) writeFileAtomically(file, text);
  else process.stdout.write(text);
}

/** Write to a temp name and rename, so a reader never sees half a config. */
function writeFileAtomically(file: string, text: string) {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

function writeFilesAtomically(dir: string, files: Record<string, string>) {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileAtomically(path.join(dir, name), text);
}
