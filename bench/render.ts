/**
 * The one place the benchmarks call the product's renderer:
 * `renderStandalone(inv, { listen, runtimeDir, configDir, maxFileBytes? })`
 * → `{ files, main }`, run as `nginx -c configDir/main -p runtimeDir -e stderr`.
 */
import type { Inventory } from "../src/inventory";

export interface StandaloneOptions {
  listen: string;
  runtimeDir: string;
  configDir: string;
  maxFileBytes?: number;
}

export interface Rendered {
  files: Record<string, string>;
  main: string;
}

export type RenderStandalone = (inv: Inventory, opts: StandaloneOptions) => Rendered;

/** Loaded at run time so that the harness builds before src/nginx exists. */
export function renderer(): RenderStandalone {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require("../src/nginx") as { renderStandalone?: RenderStandalone };
  if (typeof mod.renderStandalone !== "function")
    throw new Error("src/nginx does not export renderStandalone");
  return mod.renderStandalone;
}
