/**
 * Filling an images dir from image references (skopeo): reference parsing,
 * the layout rule, and what to run for each reference; and the registry
 * client for what skopeo cannot ask, reaching a registry as skopeo does.
 */
export {
  canonicalReference,
  hostDir,
  hostOfRepository,
  looksLikeHost,
  parseReference,
  ReferenceError,
  servedRepository,
  type ImageReference,
} from "./reference";
export { parseImageList, parseReferences, type ParsedList } from "./list";
export { planItem, planMirror, partialDir, tagDirName, type MirrorItem } from "./plan";
export {
  DEFAULT_RETRIES,
  skopeoArchiveArgv,
  skopeoCopyArgv,
  skopeoInspectArgv,
  type SkopeoOptions,
} from "./skopeo";
export { AUTH_ENV, authJsonDocument, mirrorScript, tagDir, unmirrorScript } from "./script";
export { dedupeTree, type DedupeResult } from "./dedupe";
export { mirroredTagPaths, pruneTree } from "./prune";
export { runScript, type Outcome, type Running } from "./exec";
export { RegistryClient, UpstreamError, type ClientOptions } from "./registryClient";
export {
  BlockedError,
  RegistriesConfError,
  loadRegistriesConf,
  pullSources,
  type PullSource,
  type RegistriesConf,
} from "./registriesConf";
