/**
 * HTTPS in the cluster: the name of an existing `kubernetes.io/tls` Secret
 * (made by cert-manager, or by hand), and where the nodes keep the CA that
 * signed it. The key never leaves the Secret: the component only names it.
 * How the pods mount it is ../tls.ts.
 */
import type { ArgTable } from "./common";

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

/** The component's HTTPS argument. */
export interface TlsOptionArgs {
  /**
   * HTTPS: an existing `kubernetes.io/tls` Secret in the namespace, mounted
   * read-only; the registry port then speaks HTTPS (and HTTP/2) only, and the
   * node wiring outputs point at `https://` and trust the CA at `caFile` on
   * the nodes (put the CA certificate there). See src/kubernetes/tls.ts.
   */
  tls?: TlsArgs;
}

export const TLS_ARGS: ArgTable<TlsOptionArgs> = {
  tls: "it decides how the pods are configured",
};

export interface ResolvedTls {
  secretName: string;
  caFile: string;
}

export const DEFAULT_NODE_CA_FILE = "/etc/static-container-registry/ca.crt";

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
