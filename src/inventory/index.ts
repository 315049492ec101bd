export * from "./model";
export * from "./grammar";
export { scan, type ScanOptions } from "./scan";
export { MAX_MANIFEST_BYTES, parseManifest, sha256 } from "./manifest";
