/**
 * The pull log: one JSON object per request, naming what was pulled (the
 * repository, the tag or digest asked for, the digest served) beside who
 * asked, the status, the bytes and the time it took. nginx's `combined` line
 * has none of the registry's words in it, so "who pulled what" needed a
 * parser of URLs; this line is read by `jq`.
 *
 * The fields come from what the registry locations already capture from the
 * URL ($scr_name, $scr_ref, $scr_hex) and the manifest record's digest
 * ($scr_md), read once, when the line is written: the manifest/blob path does
 * no work for the log. The small maps below turn a capture a request never
 * made into "" (nginx would log "-").
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
    '"client":"$remote_addr","method":"$scr_log_method","repository":"$scr_log_name",'
    '"reference":"$scr_log_ref","digest":"$scr_log_digest","status":$status,'
    '"bytes":$body_bytes_sent,"duration":$request_time,"user_agent":"$http_user_agent",'
    '"request":"$request_uri"}';
# The client's method: an error page (405 for a POST) is served as a GET, so
# $request_method would say GET; the request line keeps what was sent.
map $request $scr_log_method {
    "~^(?<scr_lm>[A-Z]++) " $scr_lm;
    default "";
}
map $scr_name $scr_log_name {
    default $scr_name;
}
map $scr_ref $scr_log_ref {
    default $scr_ref;
}
# By tag the record's digest ($scr_md), by digest the URL's ($scr_hex): never
# both (a record found by digest has no digest of its own). An exact key, not
# a regex: one hash lookup per line.
map $scr_md$scr_hex $scr_log_digest {
    "" "";
    default sha256:$scr_md$scr_hex;
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
