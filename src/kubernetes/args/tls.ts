/**
 * HTTPS in the cluster: the name of a `kubernetes.io/tls` Secret (made by
 * cert-manager, by hand, or in the same program — the name may be an Output),
 * where the nodes keep the CA that signed it, and that CA itself, which the
 * node wiring (SSH `nodes` and the wiring DaemonSet) then places there. The
 * key never leaves the Secret: the component only names it. How the pods
 * mount it is ../tls.ts.
 */
import type * as pulumi from "@pulumi/pulumi";
import { known, OBJECT_NAME_RE, type ArgTable } from "./common";

export interface TlsArgs {
  /**
   * Name of a `kubernetes.io/tls` Secret (keys `tls.crt`, `tls.key`) in the
   * registry's namespace; may be an Output (e.g. `secret.metadata.name` of a
   * Secret or cert-manager Certificate made in the same program).
   */
  secretName: pulumi.Input<string>;
  /**
   * Where the nodes keep the PEM CA certificate that signed the Secret's
   * certificate: the node wiring's `ca = …` (containerd) and `ca_file` (k3s)
   * point at it. Default `/etc/static-container-registry/ca.crt`.
   */
  caFile?: string;
  /**
   * The PEM text of that CA certificate (may be an Output, or a secret). The
   * SSH `nodes` wiring writes it to `caFile` on each node before the
   * hosts.toml that points at it (and its delete removes it), and so does the
   * wiring DaemonSet. Without it, the CA must already be at `caFile`.
   */
  caCertificate?: pulumi.Input<string>;
}

/** The component's HTTPS argument. */
export interface TlsOptionArgs {
  /**
   * HTTPS: a `kubernetes.io/tls` Secret in the namespace, mounted read-only;
   * the registry port then speaks HTTPS (and HTTP/2) only, and the node wiring
   * points at `https://` and trusts the CA at `caFile` on the nodes, placed
   * there from `caCertificate`. See src/kubernetes/tls.ts.
   */
  tls?: TlsArgs;
}

export const TLS_ARGS: ArgTable<TlsOptionArgs> = {
  tls: "it decides how the pods are configured",
};

export interface ResolvedTls {
  secretName: pulumi.Input<string>;
  caFile: string;
  caCertificate?: pulumi.Input<string>;
}

export const DEFAULT_NODE_CA_FILE = "/etc/static-container-registry/ca.crt";

const PEM_CERTIFICATE_RE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

/** Validates `tls`, pushing every problem; the resolved form, or undefined without TLS. */
export function checkTls(tls: TlsArgs | undefined, problems: string[]): ResolvedTls | undefined {
  if (tls === undefined) return undefined;
  if (typeof tls !== "object" || tls === null) {
    problems.push("tls must be { secretName, caFile?, caCertificate? }");
    return undefined;
  }
  const name = known(tls.secretName);
  if (
    tls.secretName === undefined ||
    (name !== undefined && (typeof name !== "string" || !OBJECT_NAME_RE.test(name)))
  )
    problems.push(`tls.secretName "${String(name)}" is not a valid Secret name`);
  const caFile = tls.caFile ?? DEFAULT_NODE_CA_FILE;
  if (
    typeof caFile !== "string" ||
    !/^\/[A-Za-z0-9._+@:/-]*[A-Za-z0-9._+@:-]$/.test(caFile) ||
    caFile.split("/").includes("..")
  )
    problems.push(
      `tls.caFile "${String(caFile)}" must be an absolute path on the nodes (letters, digits and ._+@:/-)`,
    );
  const pem = known(tls.caCertificate);
  if (pem !== undefined && (typeof pem !== "string" || !PEM_CERTIFICATE_RE.test(pem)))
    problems.push("tls.caCertificate must be the PEM text of a certificate (-----BEGIN CERTIFICATE----- …)");
  return {
    secretName: tls.secretName,
    caFile,
    ...(tls.caCertificate !== undefined ? { caCertificate: tls.caCertificate } : {}),
  };
}
