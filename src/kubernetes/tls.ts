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
import type { ResolvedTls } from "./args";

export const TLS_VOLUME = "tls";
/** Where the Secret is mounted in the nginx container. */
export const POD_TLS_DIR = "/etc/static-container-registry-tls";

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
