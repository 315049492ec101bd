/**
 * HTTPS in the cluster: an existing `kubernetes.io/tls` Secret (made by
 * cert-manager, or by hand) mounted read-only into the nginx container; the
 * rendered config then serves HTTPS (and HTTP/2) only on the registry port,
 * the probes speak HTTPS, and the node wiring points at `https://` and trusts
 * the CA in `caFile` on the nodes. The key never leaves the Secret: the
 * component only names it.
 */
import type * as k8s from "@pulumi/kubernetes";
import type { TlsOptions } from "../nginx";

export interface TlsArgs {
  /** Name of a `kubernetes.io/tls` Secret (keys `tls.crt`, `tls.key`) in the registry's namespace. */
  secretName: string;
  /**
   * Where the nodes keep the PEM CA certificate that signed the Secret's
   * certificate: the node wiring's `ca = …` (containerd) and `ca_file` (k3s)
   * point at it. Default `/etc/static-container-registry/ca.crt`.
   */
  caFile?: string;
}

export interface ResolvedTls {
  secretName: string;
  caFile: string;
}

export const DEFAULT_NODE_CA_FILE = "/etc/static-container-registry/ca.crt";
export const TLS_VOLUME = "tls";
/** Where the Secret is mounted in the nginx container. */
export const POD_TLS_DIR = "/etc/static-container-registry-tls";

const DNS_SUBDOMAIN_RE = /^[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?$/;

/** Validates `tls`, pushing every problem; the resolved form, or undefined without TLS. */
export function checkTls(tls: TlsArgs | undefined, problems: string[]): ResolvedTls | undefined {
  if (tls === undefined) return undefined;
  if (typeof tls !== "object" || tls === null) {
    problems.push("tls must be { secretName, caFile? }");
    return undefined;
  }
  if (typeof tls.secretName !== "string" || !DNS_SUBDOMAIN_RE.test(tls.secretName))
    problems.push(`tls.secretName "${String(tls.secretName)}" is not a valid Secret name`);
  const caFile = tls.caFile ?? DEFAULT_NODE_CA_FILE;
  if (typeof caFile !== "string" || !/^\/[^\s"\\]*$/.test(caFile))
    problems.push(
      `tls.caFile "${String(caFile)}" must be an absolute path on the nodes (no spaces or quotes)`,
    );
  return { secretName: tls.secretName, caFile };
}

/** The certificate and key as nginx in the pod sees them. */
export function podTlsFiles(): TlsOptions {
  return { certificate: `${POD_TLS_DIR}/tls.crt`, key: `${POD_TLS_DIR}/tls.key` };
}

/** The Secret as a read-only volume holding only the certificate and key. */
export function tlsVolume(tls: ResolvedTls): k8s.types.input.core.v1.Volume {
  return {
    name: TLS_VOLUME,
    secret: {
      secretName: tls.secretName,
      items: [
        { key: "tls.crt", path: "tls.crt" },
        { key: "tls.key", path: "tls.key" },
      ],
      // Owned by root (the pod sets no fsGroup, which would chown the images volume too),
      // so readable by all: mounted into the nginx container only, which runs one non-root user.
      defaultMode: 0o444,
    },
  };
}

export const tlsMount = { name: TLS_VOLUME, mountPath: POD_TLS_DIR, readOnly: true };
