/**
 * The one place the benchmarks take the product's renderer from:
 * `renderStandalone(inv, { listen, runtimeDir, configDir, … })` → `{ files, main }`,
 * run as `nginx -c configDir/main -p runtimeDir -e stderr`.
 */
export { renderStandalone, type RenderedConfig as Rendered, type StandaloneOptions } from "../src/nginx";
