/**
 * Filling an images dir from image references (skopeo): reference parsing,
 * the layout rule, and what to run for each reference.
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
