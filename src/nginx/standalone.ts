/**
 * A complete nginx config that runs with a read-only root filesystem:
 *
 *   nginx -c <configDir>/nginx.conf -p <runtimeDir> -e stderr
 *
 * - writes only under runtimeDir (pid, lock, every *_temp_path);
 * - reads only configDir and the images (no /etc/nginx, no mime.types);
 * - logs errors to stderr and requests to stdout, runs in the foreground;
 * - needs no `user` directive when started as non-root (with `user`, nginx
 *   started as root runs its workers as that user; without, as nobody).
 *
 * The data (lookup, repository and list map entries) is inlined when
 * everything fits in one file of at most maxFileBytes, else split over
 * registry-{data,repositories,shared,groups,lists}-NNNN.conf files (each at most
 * maxFileBytes, for ConfigMaps) included in order by their maps. Beside
 * them, the njs module of the list endpoints (njs.ts), which nginx loads
 * with ngx_http_js_module (`load_module` of njsModulePath).
 */
import type { Inventory } from "../inventory/model";
import { accessLogDirective, DEFAULT_ACCESS_LOG_FORMAT, type AccessLogFormat } from "./accessLog";
import { RenderError, token } from "./escape";
import { dataEntries } from "./data";
import {
  DEFAULT_MAP_HASH_BUCKET_SIZE,
  DEFAULT_MAP_HASH_MAX_SIZE,
  dataHeader,
  hashSizes,
  rootPrefix,
} from "./include";
import { serverConstants } from "./locations";
import { httpConstants, type HttpBodies } from "./maps";
import { METRICS_JS_FILE, METRICS_NJS_MODULE, metricsServerText } from "./metrics";
import { JS_FILE, NJS_MODULE } from "./njs";
import {
  checkAbsoluteDir,
  checkListen,
  resolveRenderOptions,
  type PageRenderOptions,
  type RenderOptions,
} from "./options";
import { catalogPage } from "./page";
import { indent } from "../shell";
import { checkTls, TLS_LISTEN_PARAMETERS, tlsServerText, type TlsOptions } from "./tls";

export interface StandaloneOptions extends RenderOptions, PageRenderOptions {
  /** "127.0.0.1:5000", "5000", "[::1]:5000", "0.0.0.0:8080". */
  listen: string;
  /** The only writable directory: pid file, lock file, all *_temp_path dirs. */
  runtimeDir: string;
  /** Absolute directory where the rendered files will be placed (for include paths). */
  configDir: string;
  /** No rendered file exceeds this many bytes; data is split over several files when needed. Default 900 KiB. */
  maxFileBytes?: number;
  /** nginx worker_processes. Default "auto". */
  workerProcesses?: number | "auto";
  /**
   * Only matters when nginx is started as root: the user its workers run as
   * (nginx's default is nobody, who must then be able to read the images).
   * Omitted by default; nginx ignores it, with a warning, when not root.
   */
  user?: string;
  /**
   * Where nginx logs requests: a file path, or false for no access log.
   * Default "/dev/stdout", which nginx opens by name: that works when stdout
   * is a pipe, a terminal or a file (containers, shells), but not when it is
   * a socket, which is what Node's child_process gives a child (ENXIO).
   */
  accessLog?: string | false;
  /** The access log's lines: "json" (default; accessLog.ts), "combined" (nginx's), or "off". */
  accessLogFormat?: AccessLogFormat;
  /**
   * Where a second server answers Prometheus text at /metrics (metrics.ts),
   * as `listen` takes it; no metrics server by default.
   */
  metricsListen?: string;
  /** HTTPS (with HTTP/2) on the listen port instead of plain HTTP; see tls.ts. */
  tls?: TlsOptions;
  /**
   * The njs module's shared object, for `load_module`. The default is where
   * both Debian (libnginx-mod-http-js) and the official nginx images
   * (nginx-module-njs, so the component's default image) install it. "" when
   * the nginx binary has the module built in.
   */
  njsModulePath?: string;
}

export interface RenderedConfig {
  /** Flat file names (no "/") → content. */
  files: Record<string, string>;
  /** The file to pass to `nginx -c`: "nginx.conf". */
  main: string;
}

export const MAIN_FILE = "nginx.conf";
export const DEFAULT_NJS_MODULE_PATH = "/usr/lib/nginx/modules/ngx_http_js_module.so";
export const DEFAULT_MAX_FILE_BYTES = 900 * 1024;
/** Smallest maxFileBytes we accept: the constants alone are ~12 KiB. */
export const MIN_MAX_FILE_BYTES = 32 * 1024;

/** The i-th (0-based) file of a kind of spilled data: registry-<kind>-0001.conf, … */
export function spillFileName(
  kind: "data" | "repositories" | "shared" | "groups" | "lists",
  i: number,
): string {
  return `registry-${kind}-${String(i + 1).padStart(4, "0")}.conf`;
}

export function renderStandalone(inv: Inventory, opts: StandaloneOptions): RenderedConfig {
  const o = resolveRenderOptions(inv, opts);
  if (o.part === "data")
    throw new RenderError('a standalone config cannot be part "data"; use renderInclude');
  const listen = checkListen(opts.listen);
  const runtimeDir = checkAbsoluteDir("runtimeDir", opts.runtimeDir);
  const configDir = checkAbsoluteDir("configDir", opts.configDir);
  const maxFileBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  if (!Number.isInteger(maxFileBytes) || maxFileBytes < MIN_MAX_FILE_BYTES) {
    throw new RenderError(
      `maxFileBytes must be an integer of at least ${MIN_MAX_FILE_BYTES}, not ${maxFileBytes}`,
    );
  }
  const workers = opts.workerProcesses ?? "auto";
  if (workers !== "auto" && !(Number.isInteger(workers) && workers > 0)) {
    throw new RenderError(`workerProcesses must be "auto" or a positive integer, not ${workers}`);
  }
  if (
    opts.user !== undefined &&
    !/^[A-Za-z0-9_][A-Za-z0-9_.-]*(?: [A-Za-z0-9_][A-Za-z0-9_.-]*)?$/.test(opts.user)
  ) {
    throw new RenderError(`user ${JSON.stringify(opts.user)} must be "USER" or "USER GROUP"`);
  }

  const njsModulePath =
    opts.njsModulePath === ""
      ? ""
      : checkAbsoluteDir("njsModulePath", opts.njsModulePath ?? DEFAULT_NJS_MODULE_PATH);
  // Relative: njs resolves it against nginx's config dir (that of nginx.conf),
  // and refuses some characters (such as "'") in an absolute path.
  const jsModule = JS_FILE;
  // Buffered (bench/RESULTS.md: small blob GET 90.6k → 105.3k req/s with it).
  const accessLog = accessLogDirective(
    opts.accessLog === false ? "" : checkAbsoluteDir("accessLog", opts.accessLog ?? "/dev/stdout"),
    opts.accessLog === false ? "off" : (opts.accessLogFormat ?? DEFAULT_ACCESS_LOG_FORMAT),
  );
  const tls = opts.tls && checkTls(opts.tls);
  const metrics = opts.metricsListen === undefined ? "" : metricsServerText(opts.metricsListen);
  if (metrics && portOf(opts.metricsListen!) === portOf(listen)) {
    throw new RenderError(`metricsListen ${opts.metricsListen} must use another port than listen ${listen}`);
  }
  // The njs modules beside nginx.conf.
  const modules = { [JS_FILE]: NJS_MODULE, ...(metrics ? { [METRICS_JS_FILE]: METRICS_NJS_MODULE } : {}) };
  // The constants serve data from elsewhere: the page cannot know their name prefixes.
  const page =
    opts.ui === false ? undefined : catalogPage(configDir, o.part === "all" ? o.namePrefix : undefined);
  const main = (
    hash: { mapHashMaxSize: number; mapHashBucketSize: number },
    bodies: Omit<HttpBodies, "jsModule">,
  ) =>
    mainConfig(
      {
        listen,
        runtimeDir,
        workers,
        user: opts.user,
        accessLog,
        metrics,
        tls,
        njsModulePath,
        page: page?.server,
      },
      httpConstants(hash, { ...bodies, jsModule }),
    );

  if (o.part === "constants") {
    // Entries from elsewhere (several roots): the glob is relative to configDir, nginx's config dir.
    const text = main(
      {
        mapHashMaxSize: o.mapHashMaxSize ?? DEFAULT_MAP_HASH_MAX_SIZE,
        mapHashBucketSize: DEFAULT_MAP_HASH_BUCKET_SIZE,
      },
      { lookup: `include ${token(o.dataInclude)};`, lists: `include ${token(o.listsInclude)};` },
    );
    return checked({ [MAIN_FILE]: text, ...modules, ...page?.files }, maxFileBytes);
  }

  const data = dataEntries(inv, o, { repositoryIds: true });
  const hash = hashSizes(data, o.mapHashMaxSize);
  const lines = [...data.exact, ...data.regex].map((l) => `${l}\n`);
  const repoLines = data.repositories.map((l) => `${l}\n`);
  const listLines = data.lists.map((l) => `${l}\n`);
  const sharedLines = data.shared.map((l) => `${l}\n`);
  const memberLines = data.members.map((l) => `${l}\n`);

  // Inline when it all fits in one file (indentation adds 8 bytes a line).
  let dataBytes = 0;
  for (const l of [...lines, ...repoLines, ...listLines, ...sharedLines, ...memberLines])
    dataBytes += Buffer.byteLength(l) + 8;
  if (dataBytes < maxFileBytes) {
    const inline = main(hash, {
      lookup: lines.join(""),
      all: {
        repositories: repoLines.join(""),
        root: rootPrefix(o),
        namePrefix: o.namePrefix,
        shared: sharedLines.join(""),
        members: memberLines.join(""),
      },
      lists: listLines.join(""),
    });
    if (Buffer.byteLength(inline) <= maxFileBytes)
      return checked({ [MAIN_FILE]: inline, ...modules, ...page?.files }, maxFileBytes);
  }

  // Split: the lookup entries, the repository names and the lists, each in files of their own.
  const files: Record<string, string> = { ...modules, ...page?.files };
  const spill = (body: string[], kind: Parameters<typeof spillFileName>[0], header: string) =>
    packLines(body, maxFileBytes - Buffer.byteLength(header))
      .map((c, i) => {
        const name = spillFileName(kind, i);
        files[name] = header + c;
        return `include ${token(`${configDir}/${name}`)};`;
      })
      .join("\n");
  const lookupIncludes = spill(lines, "data", dataHeader(inv));
  const repositoryIncludes = spill(
    repoLines,
    "repositories",
    "# static-container-registry: repository ids, inside map $scr_name $scr_rid. Generated; do not edit.\n",
  );
  const listIncludes = spill(
    listLines,
    "lists",
    "# static-container-registry: lists, inside map $scr_lk $scr_lv. Generated; do not edit.\n",
  );
  const sharedIncludes = spill(
    sharedLines,
    "shared",
    "# static-container-registry: shared blobs, inside map $scr_hex $scr_shared. Generated; do not edit.\n",
  );
  const memberIncludes = spill(
    memberLines,
    "groups",
    "# static-container-registry: shared-blob groups, inside map $scr_rid/$scr_group $scr_member. Generated; do not edit.\n",
  );
  files[MAIN_FILE] = main(hash, {
    lookup: lookupIncludes,
    all: {
      repositories: repositoryIncludes,
      root: rootPrefix(o),
      namePrefix: o.namePrefix,
      shared: sharedIncludes,
      members: memberIncludes,
    },
    lists: listIncludes,
  });
  return checked(files, maxFileBytes);
}

/** The port of a checked listen address. */
function portOf(listen: string): number {
  return Number(/(\d+)$/.exec(listen)![1]);
}

/** Greedy packing of whole lines, in order, into chunks of at most `limit` bytes. */
export function packLines(lines: readonly string[], limit: number): string[] {
  const chunks: string[] = [];
  let cur: string[] = [];
  let size = 0;
  for (const l of lines) {
    const n = Buffer.byteLength(l);
    if (n > limit)
      throw new RenderError(`a config line of ${n} bytes does not fit in a file of ${limit} bytes`);
    if (size + n > limit) {
      chunks.push(cur.join(""));
      cur = [];
      size = 0;
    }
    cur.push(l);
    size += n;
  }
  if (cur.length || chunks.length === 0) chunks.push(cur.join(""));
  return chunks;
}

function checked(files: Record<string, string>, maxFileBytes: number): RenderedConfig {
  for (const [name, text] of Object.entries(files)) {
    const n = Buffer.byteLength(text);
    if (n > maxFileBytes)
      throw new RenderError(`${name} would be ${n} bytes, more than maxFileBytes (${maxFileBytes})`);
  }
  return { files, main: MAIN_FILE };
}

interface MainOptions {
  listen: string;
  runtimeDir: string;
  workers: number | "auto";
  user?: string;
  /** The access_log directive. */
  accessLog: string;
  /** The metrics server's http-context text, or "". */
  metrics: string;
  tls?: TlsOptions;
  /** "" (built in) or the path for load_module. */
  njsModulePath: string;
  /** The catalog page's location (page.ts), if it is served. */
  page?: string;
}

function mainConfig(o: MainOptions, httpText: string): string {
  const rt = (f: string) => token(`${o.runtimeDir}/${f}`);
  return `# static-container-registry: standalone nginx config. Generated; do not edit.
# Run: mkdir -p ${o.runtimeDir} && nginx -c <this file> -p ${o.runtimeDir} -e stderr
# Writes only under ${o.runtimeDir}; reads only this directory and the images.
${o.njsModulePath ? `load_module ${token(o.njsModulePath)};\n` : ""}daemon off;
worker_processes ${o.workers};
${o.user ? `user ${o.user};\n` : ""}pid ${rt("nginx.pid")};
lock_file ${rt("nginx.lock")};
error_log stderr warn;
pcre_jit on;

events {
    worker_connections 1024;
}

http {
    # Every temp path under the runtime dir: nginx creates them at start, even unused.
    client_body_temp_path ${rt("client_body_temp")};
    proxy_temp_path ${rt("proxy_temp")};
    fastcgi_temp_path ${rt("fastcgi_temp")};
    uwsgi_temp_path ${rt("uwsgi_temp")};
    scgi_temp_path ${rt("scgi_temp")};

    # No mime.types: each location sets its own Content-Type.
    types {}
    default_type application/octet-stream;

    server_tokens off;

    # Serving files fast: zero-copy, full packets, long-lived connections, and
    # cached open file descriptors (blobs are immutable; 60 s revalidation).
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65s;
    keepalive_requests 10000;
    reset_timedout_connection on;
    open_file_cache max=10000 inactive=60s;
    open_file_cache_valid 60s;
    open_file_cache_errors off;

${indent(httpText, 4)}
    # After the http text, which defines the log formats.
    ${o.accessLog}

    server {
        listen ${o.listen}${o.tls ? ` ${TLS_LISTEN_PARAMETERS}` : ""};
        server_name _;
${o.tls ? `\n${indent(tlsServerText(o.tls), 8)}` : ""}
${indent(serverConstants({ catchAll: true }), 8)}${o.page ? indent(o.page, 8) : ""}    }
${o.metrics ? `\n${indent(o.metrics, 4)}` : ""}}
`;
}
