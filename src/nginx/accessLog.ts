/**
 * The pull log: one JSON object per request, naming what was pulled (the
 * repository, the tag or digest asked for, the digest served) beside who
 * asked, the status, the bytes and the time it took. nginx's `combined` line
 * has none of the registry's words in it, so "who pulled what" needed a
 * parser of URLs; this line is read by `jq`.
 *
 * The fields are what the registry locations capture from the URL anyway
 * ($scr_name, $scr_ref, and $scr_dg, the digest of a blob or referrers URL)
 * or set for their headers (a manifest's digest, also $scr_dg), read when
 * the line is written: no map, no regex per line (each would cost about as
 * much as the rest of the line; bench/notes.md). JSON escaping logs a
 * variable a request never set as "".
 */
import { RenderError, token } from "./escape";

/** What `access_log` writes: the JSON line, nginx's combined line, or nothing. */
export type AccessLogFormat = "json" | "combined" | "off";
export const ACCESS_LOG_FORMATS: readonly AccessLogFormat[] = ["json", "combined", "off"];
export const DEFAULT_ACCESS_LOG_FORMAT: AccessLogFormat = "json";

/** The log_format's name, for `access_log FILE static_container_registry;` in an nginx config of one's own. */
export const JSON_LOG_FORMAT = "static_container_registry";

/**
 * The http-context text: the JSON log_format and the maps it reads. It must
 * come before an `access_log` that names the format.
 */
export function accessLogFormatText(): string {
  return `# The pull log (access_log FILE ${JSON_LOG_FORMAT};): one JSON object per request.
# "unix_time" is seconds since the epoch (for jq's now), "duration" seconds,
# "bytes" the body bytes sent; "reference" is the tag or digest of a manifests
# URL, "digest" the manifest's, blob's or referrers subject's digest.
log_format ${JSON_LOG_FORMAT} escape=json '{"time":"$time_iso8601","unix_time":$msec,'
    '"client":"$remote_addr","method":"$scr_log_method","repository":"$scr_name",'
    '"reference":"$scr_ref","digest":"$scr_dg","status":$status,'
    '"bytes":$body_bytes_sent,"duration":$request_time,"user_agent":"$http_user_agent",'
    '"request":"$request_uri"}';
# The client's method: an error page (the 405 of a POST) is served as a GET,
# so $request_method says GET there; the write refusal keeps it in $scr_wm.
map $scr_wm $scr_log_method {
    "" $request_method;
    default $scr_wm;
}
`;
}

/**
 * The `access_log` directive: `format` to `file`, buffered (one write(2) per
 * 64 KiB of lines instead of one per request, at most 1 s late), or off.
 */
export function accessLogDirective(file: string, format: AccessLogFormat): string {
  if (!ACCESS_LOG_FORMATS.includes(format)) {
    throw new RenderError(
      `accessLog format must be ${ACCESS_LOG_FORMATS.map((f) => JSON.stringify(f)).join(", ")}, not ${JSON.stringify(format)}`,
    );
  }
  if (format === "off") return "access_log off;";
  return `access_log ${token(file)} ${format === "json" ? JSON_LOG_FORMAT : "combined"} buffer=64k flush=1s;`;
}
