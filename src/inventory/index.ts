export * from "./model";
export * from "./grammar";
export { scan, type ScanOptions } from "./scan";
export { parseManifest, sha256 } from "./manifest";
