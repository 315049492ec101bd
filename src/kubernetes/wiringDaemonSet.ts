/**
 * Node wiring from inside the cluster, for clusters whose nodes cannot be
 * reached by SSH: a DaemonSet whose pods run the node wiring script
 * (src/nodes/keepWired.ts: one hosts.toml per upstream host, and with TLS the
 * CA they point at) against each node's `/etc/containerd/certs.d/` through a
 * hostPath mount of that one directory (and of the CA's directory), and
 * nothing else. What it writes comes from a ConfigMap (`wiringFiles`), so a
 * change of endpoint or hosts changes only data. An init container wires once
 * before the pod counts as started; the main container repeats it every few
 * minutes, so a file removed by hand or by a config management run comes
 * back. A DaemonSet has no delete hook: the script never overwrites a file it
 * did not write, and stops saying so instead.
 *
 * containerd must have its CRI registry `config_path` set to the certs dir
 * (the pod cannot see containerd's config to check it; the SSH wiring does).
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { filesHash } from "./configMaps";
import { WIRING_LIST, WIRING_SCRIPT, wiringFiles, wiringScript } from "../nodes/keepWired";

export { WIRING_LIST, WIRING_SCRIPT, wiringFiles, wiringScript };

type DaemonSetSpec = k8s.types.input.apps.v1.DaemonSetSpec;
type SecurityContext = k8s.types.input.core.v1.SecurityContext;
type Container = k8s.types.input.core.v1.Container;
type Volume = k8s.types.input.core.v1.Volume;

/** containerd's conventional hosts dir. */
export const DEFAULT_CERTS_DIR = "/etc/containerd/certs.d";
/** Where the pod sees the files: the source (ConfigMap or node files), the node's certs dir, the CA's dir. */
export const WIRING_PATHS = {
  config: "/etc/static-container-registry-wiring",
  certs: "/host/etc/containerd/certs.d",
  ca: "/host/static-container-registry-ca",
} as const;
/** Seconds between two checks of the main container. */
export const DEFAULT_WIRING_INTERVAL = 300;

/** The pod template annotation that rolls the wiring pods when what they write changes. */
export function wiringHash(files: Record<string, string>): string {
  return filesHash(files);
}

/** What a wiring container needs to know, in the DaemonSet and in the static pods' watcher alike. */
export interface WiringPodInputs {
  /** Image with a POSIX sh and the tools listed at {@link wiringScript} (the registry's own image has them). */
  image: pulumi.Input<string>;
  imagePullPolicy: pulumi.Input<string>;
  /** containerd's hosts dir on the nodes. Default {@link DEFAULT_CERTS_DIR}. */
  certsDir?: string;
  /** With TLS: where the CA certificate goes on the nodes (`tls.caFile`), when the source holds it. */
  caFile?: string;
}

export interface WiringDaemonSetInputs extends WiringPodInputs {
  /** Labels of the pods (and the selector's, which must be a subset). */
  labels: Record<string, string>;
  selector: Record<string, string>;
  annotations?: Record<string, string>;
  /** The wiring ConfigMap's name. */
  configMapName: k8s.types.input.core.v1.ConfigMapVolumeSource["name"];
  /** Hash of the ConfigMap's data. */
  contentHash: string | pulumi.Output<string>;
  imagePullSecrets?: pulumi.Input<string>[];
  /** Seconds between checks. Default {@link DEFAULT_WIRING_INTERVAL}. */
  interval?: number;
  /** Which nodes to wire (default: all, whatever their taints). */
  nodeSelector?: Record<string, pulumi.Input<string>>;
  affinity?: pulumi.Input<k8s.types.input.core.v1.Affinity>;
  tolerations?: pulumi.Input<pulumi.Input<k8s.types.input.core.v1.Toleration>[]>;
  priorityClassName?: pulumi.Input<string>;
}

/**
 * Root (the node's certs dir belongs to root) and nothing more: no
 * capability at all (root owns the directories it writes, so none is
 * needed), no privilege escalation, a read-only root filesystem.
 */
export const WIRING_SECURITY_CONTEXT: SecurityContext = {
  runAsUser: 0,
  runAsGroup: 0,
  runAsNonRoot: false,
  allowPrivilegeEscalation: false,
  privileged: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

/** The command of the wiring containers: once (init), or every `interval` seconds (main). */
export function wiringCommand(interval?: number): string[] {
  const argv = ["sh", `${WIRING_PATHS.config}/${WIRING_SCRIPT}`, WIRING_PATHS.certs, WIRING_PATHS.config];
  return interval === undefined ? argv : [...argv, String(interval)];
}

const SAFE_DIR_RE = /^\/[A-Za-z0-9._/-]+$/;

/**
 * The host directories a wiring pod may touch, as volumes: the certs dir,
 * and with a CA file the directory it goes into. `source` is the volume of
 * the files it writes from (a ConfigMap, or a directory on the node).
 */
export function wiringVolumes(w: WiringPodInputs, source: Volume): Volume[] {
  const certsDir = w.certsDir ?? DEFAULT_CERTS_DIR;
  if (!SAFE_DIR_RE.test(certsDir) || certsDir.split("/").includes(".."))
    throw new Error(`node wiring: certsDir "${certsDir}" must be an absolute path`);
  const volumes: Volume[] = [
    source,
    { name: "certs", hostPath: { path: certsDir, type: "DirectoryOrCreate" } },
  ];
  if (w.caFile !== undefined)
    volumes.push({ name: "ca", hostPath: { path: path.posix.dirname(w.caFile), type: "DirectoryOrCreate" } });
  return volumes;
}

/** A wiring container: the script, once or every `interval` seconds, as root without capabilities. */
export function wiringContainer(w: WiringPodInputs, name: string, interval?: number): Container {
  const env: k8s.types.input.core.v1.EnvVar[] = [
    { name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
  ];
  const mounts: k8s.types.input.core.v1.VolumeMount[] = [
    { name: "wiring", mountPath: WIRING_PATHS.config, readOnly: true },
    { name: "certs", mountPath: WIRING_PATHS.certs },
  ];
  if (w.caFile !== undefined) {
    env.push({ name: "CA_FILE", value: `${WIRING_PATHS.ca}/${path.posix.basename(w.caFile)}` });
    mounts.push({ name: "ca", mountPath: WIRING_PATHS.ca });
  }
  return {
    name,
    image: w.image,
    imagePullPolicy: w.imagePullPolicy,
    command: wiringCommand(interval),
    env,
    securityContext: WIRING_SECURITY_CONTEXT,
    resources: { requests: { cpu: "5m", memory: "8Mi" }, limits: { memory: "32Mi" } },
    volumeMounts: mounts,
    terminationMessagePolicy: "FallbackToLogsOnError",
  };
}

/** The wiring DaemonSet's spec. */
export function wiringDaemonSetSpec(w: WiringDaemonSetInputs): DaemonSetSpec {
  const interval = w.interval ?? DEFAULT_WIRING_INTERVAL;
  return {
    selector: { matchLabels: w.selector },
    // Wiring is idempotent and brief: any number of nodes may roll at once.
    updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "100%" } },
    revisionHistoryLimit: 3,
    template: {
      metadata: {
        labels: w.labels,
        annotations: { ...w.annotations, "static-container-registry/wiring-hash": w.contentHash },
      },
      spec: {
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        securityContext: { seccompProfile: { type: "RuntimeDefault" } },
        initContainers: [wiringContainer(w, "wire")],
        containers: [wiringContainer(w, "keep-wired", interval)],
        // The only host directories the pod can touch.
        volumes: wiringVolumes(w, {
          name: "wiring",
          configMap: { name: w.configMapName, defaultMode: 0o444 },
        }),
        ...(w.nodeSelector && Object.keys(w.nodeSelector).length > 0 ? { nodeSelector: w.nodeSelector } : {}),
        ...(w.affinity !== undefined ? { affinity: w.affinity } : {}),
        // Every node pulls images, control-plane and tainted ones too.
        tolerations: w.tolerations ?? [{ operator: "Exists" }],
        ...(w.priorityClassName !== undefined ? { priorityClassName: w.priorityClassName } : {}),
        ...(w.imagePullSecrets && w.imagePullSecrets.length > 0
          ? { imagePullSecrets: w.imagePullSecrets.map((name) => ({ name })) }
          : {}),
        terminationGracePeriodSeconds: 5,
      },
    },
  };
}
