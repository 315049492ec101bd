/**
 * The distribution spec's grammar for repository names, tags and digests.
 * Shared by validation (scan) and by render (to tell 400 from 404).
 */

/** One path component of a repository name. */
export const NAME_COMPONENT = "[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*";
/** A full repository name: components separated by `/`. */
export const NAME = `${NAME_COMPONENT}(?:/${NAME_COMPONENT})*`;
export const TAG = "[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}";
/** The longest tag {@link TAG} allows. */
export const MAX_TAG_LENGTH = 128;
/** The only digest algorithm this registry stores and serves. */
export const SHA256_DIGEST = "sha256:[a-f0-9]{64}";

const nameRe = new RegExp(`^${NAME}$`);
const tagRe = new RegExp(`^${TAG}$`);
const digestRe = new RegExp(`^${SHA256_DIGEST}$`);

/** Repository names longer than this are refused by common clients and registries. */
export const MAX_NAME_LENGTH = 255;

export function isValidName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && nameRe.test(name);
}

export function isValidTag(tag: string): boolean {
  return tagRe.test(tag);
}

export function isSha256Digest(digest: string): boolean {
  return digestRe.test(digest);
}
