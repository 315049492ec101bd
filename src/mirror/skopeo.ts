/**
 * The skopeo command lines of the mirror — the one place they are built. The
 * CLI, the component's commands and the e2e tests all run these argvs.
 *
 * `copy --all --preserve-digests` into a `dir:` tree keeps every platform of
 * a list and every manifest byte (skopeo fails rather than convert), so pulls
 * by the upstream digest work. Nothing else is set: skopeo's own
 * configuration (registries.conf, the auth file or REGISTRY_AUTH_FILE, the
 * certs.d directories, policy.json) applies as it does to a plain `skopeo copy`.
 * `--registries-conf` is passed only when asked for: skopeo 1.9 reads no
 * environment variable for it (newer ones read CONTAINERS_REGISTRIES_CONF).
 */
export interface SkopeoOptions {
  /** A registries.conf to use instead of skopeo's default ones. */
  registriesConf?: string;
  /** `--retry-times`: skopeo retries network failures with back-off. */
  retries: number;
}

export const DEFAULT_RETRIES = 3;

function globalArgs(o: SkopeoOptions): string[] {
  return o.registriesConf ? ["--registries-conf", o.registriesConf] : [];
}

/** `skopeo copy` of every platform of `source`, digests kept, to the transport destination `dest`. */
function copyArgv(source: string, dest: string, o: SkopeoOptions): string[] {
  return [
    "skopeo",
    ...globalArgs(o),
    "copy",
    "--all",
    "--preserve-digests",
    "--retry-times",
    String(o.retries),
    "--quiet",
    `docker://${source}`,
    dest,
  ];
}

/** `skopeo copy` of `source` (`host/path:tag` or `host/path@digest`) into a `dir:` tree at `dir`. */
export function skopeoCopyArgv(source: string, dir: string, o: SkopeoOptions): string[] {
  return copyArgv(source, `dir:${dir}`, o);
}

/** `skopeo inspect --raw`: the exact manifest bytes a reference resolves to upstream. */
export function skopeoInspectArgv(source: string, o: SkopeoOptions): string[] {
  return [
    "skopeo",
    ...globalArgs(o),
    "inspect",
    "--raw",
    "--retry-times",
    String(o.retries),
    `docker://${source}`,
  ];
}

/**
 * `skopeo copy` of `source` into a single-file archive (for `ctr images
 * import` on nodes): an `oci-archive` with every platform and the upstream
 * digests, the image named by its full reference.
 */
export function skopeoArchiveArgv(source: string, file: string, name: string, o: SkopeoOptions): string[] {
  return copyArgv(source, `oci-archive:${file}:${name}`, o);
}
