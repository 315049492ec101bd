/**
 * The TLS trust skopeo has for a registry host, as containers/image 5.23
 * builds it (containers-certs.d(5)), for the mirror's own HTTPS requests:
 *
 * - the system's CA bundle (the file Go reads: `$SSL_CERT_FILE`, else the
 *   first of the distributions' usual bundle paths; Node's built-in roots
 *   only where none exists);
 * - plus, from the first existing directory of
 *   `~/.config/containers/certs.d/<host[:port]>`,
 *   `/etc/containers/certs.d/<host[:port]>` and
 *   `/etc/docker/certs.d/<host[:port]>`: every `*.crt` as a further CA, and
 *   each `*.cert` with its `*.key` as a client certificate (a `.cert` without
 *   its `.key`, or the reverse, is an error, as there).
 *
 * Docker Hub's certificates directory is `docker.io`, not the host it dials.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";

/** The bundle files Go's crypto/x509 tries on Linux, in its order. */
const SYSTEM_BUNDLES = [
  "/etc/ssl/certs/ca-certificates.crt",
  "/etc/pki/tls/certs/ca-bundle.crt",
  "/etc/ssl/ca-bundle.pem",
  "/etc/pki/tls/cacert.pem",
  "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
  "/etc/ssl/cert.pem",
];

export interface TlsTrust {
  /** CA certificates (PEM texts): the system's and the host's. */
  ca: string[];
  /** Client certificate and key pairs (PEM). */
  clientCerts: { cert: string; key: string }[];
  /** The certs.d directory read, if any (for messages). */
  certDir?: string;
}

export interface TrustOptions {
  env?: Readonly<Record<string, string | undefined>>;
  home?: string;
  /** The per-host directories searched after the user's (default: containers', then docker's, under /etc). */
  dirs?: readonly string[];
}

let systemCache: { key: string; ca: string[] } | undefined;

/** The system's CA certificates (see the header). */
function systemCAs(env: Readonly<Record<string, string | undefined>>): string[] {
  const key = env.SSL_CERT_FILE ?? "";
  if (systemCache?.key === key) return systemCache.ca;
  const candidates = env.SSL_CERT_FILE ? [env.SSL_CERT_FILE] : SYSTEM_BUNDLES;
  let ca: string[] = [...tls.rootCertificates];
  for (const f of candidates) {
    try {
      ca = [fs.readFileSync(f, "utf8")];
      break;
    } catch {
      /* next */
    }
  }
  systemCache = { key, ca };
  return ca;
}

/** The trust for `hostPort` (`host[:port]`, as in the reference; see the header). */
export function tlsTrust(hostPort: string, o: TrustOptions = {}): TlsTrust {
  const env = o.env ?? process.env;
  const home = o.home ?? os.homedir();
  const dirs = [
    path.join(home, ".config", "containers", "certs.d"),
    ...(o.dirs ?? ["/etc/containers/certs.d", "/etc/docker/certs.d"]),
  ];
  const trust: TlsTrust = { ca: systemCAs(env), clientCerts: [] };
  const dir = dirs.map((d) => path.join(d, hostPort)).find((d) => fs.existsSync(d));
  if (!dir) return trust;
  trust.certDir = dir;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return trust; // unreadable: skipped, as containers/image does on a permission error
  }
  const extra: string[] = [];
  for (const name of names.sort()) {
    const file = path.join(dir, name);
    if (name.endsWith(".crt")) {
      try {
        extra.push(fs.readFileSync(file, "utf8"));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT")
          throw new Error(`reading ${file}: ${(e as Error).message}`);
      }
    } else if (name.endsWith(".cert")) {
      const key = `${name.slice(0, -5)}.key`;
      if (!names.includes(key))
        throw new Error(
          `${dir}: missing key ${key} for client certificate ${name} (CA certificates end in .crt)`,
        );
      trust.clientCerts.push({
        cert: fs.readFileSync(file, "utf8"),
        key: fs.readFileSync(path.join(dir, key), "utf8"),
      });
    } else if (name.endsWith(".key")) {
      const cert = `${name.slice(0, -4)}.cert`;
      if (!names.includes(cert))
        throw new Error(`${dir}: missing client certificate ${cert} for key ${name}`);
    }
  }
  if (extra.length) trust.ca = [...trust.ca, ...extra];
  return trust;
}
