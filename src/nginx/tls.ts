/**
 * HTTPS for the standalone config: the registry port speaks TLS (with HTTP/2,
 * negotiated by ALPN) and nothing else. A plain-HTTP request on that port is
 * answered by nginx's 497 handling with a JSON error, never with image bytes,
 * so a client that forgot `https://` learns why instead of pulling in clear.
 *
 * The certificate and key are paths as nginx sees them (a Secret mounted in
 * the pod, files beside the config for `serve`); nginx's master reads them at
 * start and on reload, before it drops privileges.
 */
import { RenderError, token } from "./escape";

export interface TlsOptions {
  /** PEM certificate chain (the server certificate first). */
  certificate: string;
  /** PEM private key of that certificate. */
  key: string;
}

/** The internal location that words the plain-HTTP refusal. */
export const PLAIN_HTTP_URI = "/_static-container-registry/plain-http";

/** The `listen` parameters that turn the registry port into an HTTPS (and HTTP/2) port. */
export const TLS_LISTEN_PARAMETERS = "ssl http2";

export function checkTls(tls: TlsOptions): TlsOptions {
  for (const [what, file] of [
    ["tls.certificate", tls.certificate],
    ["tls.key", tls.key],
  ] as const) {
    if (typeof file !== "string" || !file.startsWith("/"))
      throw new RenderError(`${what} must be an absolute path, not ${JSON.stringify(file)}`);
    if (/[\u0000-\u001f\u007f$]/.test(file))
      throw new RenderError(`${what} ${JSON.stringify(file)} must not contain '$' or control characters`);
  }
  return tls;
}

/** Server-context lines for HTTPS (to follow `listen … ssl http2`). */
export function tlsServerText(tls: TlsOptions): string {
  const t = checkTls(tls);
  return `# HTTPS only: TLS 1.2+, HTTP/2 by ALPN.
ssl_certificate ${token(t.certificate)};
ssl_certificate_key ${token(t.key)};
ssl_protocols TLSv1.2 TLSv1.3;
ssl_session_cache shared:scr_tls:10m;
ssl_session_timeout 1h;

# Plain HTTP sent to this port (nginx's status 497): a JSON 400, no content.
error_page 497 =400 ${PLAIN_HTTP_URI};
location = ${PLAIN_HTTP_URI} {
    internal;
    types {}
    default_type application/json;
    add_header Docker-Distribution-API-Version registry/2.0 always;
    return 200 '{"errors":[{"code":"UNSUPPORTED","message":"this registry port speaks HTTPS only: use https://","detail":{}}]}';
}
`;
}
