/**
 * Node wiring from inside the cluster, for clusters whose nodes cannot be
 * reached by SSH: a DaemonSet whose pods write the containerd `hosts.toml`
 * files (one per upstream host) into each node's
 * `/etc/containerd/certs.d/<host>/` through a hostPath mount of that one
 * directory, and nothing else.
 *
 * The script is fixed text; what it writes comes from the files beside it
 * in a ConfigMap (`hosts.list` names each host and its file), so a change of
 * endpoint or hosts changes only data. It writes a file only when its
 * content differs (idempotent), each by a temp file and a rename in the same
 * directory (atomic: containerd, which reads hosts.toml at every pull, sees
 * the old file or the new one), and never overwrites a hosts.toml that it did
 * not write (one without the generated marker): a DaemonSet has no delete
 * hook that could put it back, so it stops and says so instead. An init
 * container wires once before the pod counts as started; the main container
 * repeats it every few minutes, so a file removed by hand or by a config
 * management run comes back.
 *
 * containerd must have its CRI registry `config_path` set to the certs dir
 * (the pod cannot see containerd's config to check it; the SSH wiring does).
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { filesHash } from "./configMaps";
import { GENERATED_MARKER } from "../nodes/scripts";

type DaemonSetSpec = k8s.types.input.apps.v1.DaemonSetSpec;
type SecurityContext = k8s.types.input.core.v1.SecurityContext;

/** Script file name in the wiring ConfigMap. */
export const WIRING_SCRIPT = "wire-hosts.sh";
/** The list of `HOST FILE` lines in the wiring ConfigMap. */
export const WIRING_LIST = "hosts.list";
/** containerd's conventional hosts dir. */
export const DEFAULT_CERTS_DIR = "/etc/containerd/certs.d";
/** Where the pod sees the files: the ConfigMap, and the node's certs dir. */
export const WIRING_PATHS = {
  config: "/etc/static-container-registry-wiring",
  certs: "/host/etc/containerd/certs.d",
} as const;
/** Seconds between two checks of the main container. */
export const DEFAULT_WIRING_INTERVAL = 300;

const HOST_RE = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$/;

/**
 * The wiring script: `sh wire-hosts.sh CERTS_DIR SOURCE_DIR [INTERVAL]`.
 * Without INTERVAL it wires once; with it, it wires every INTERVAL seconds
 * until stopped. Needs sh, cat, cmp, cp, chmod, mkdir, mv, grep, sleep
 * (busybox or coreutils + diffutils).
 */
export function wiringScript(): string {
  return `#!/bin/sh
# static-container-registry node wiring (generated; do not edit).
#
# usage: sh ${WIRING_SCRIPT} CERTS_DIR SOURCE_DIR [INTERVAL]
#
# For each line "HOST FILE" of SOURCE_DIR/${WIRING_LIST}, makes
# CERTS_DIR/HOST/hosts.toml a copy of SOURCE_DIR/FILE: only when it differs,
# by a temp file and a rename, never over a hosts.toml it did not write.
# With INTERVAL, repeats every INTERVAL seconds until stopped.
set -eu
certs=$1
src=$2
interval=\${3:-}
marker='${GENERATED_MARKER}'
node=\${NODE_NAME:-$(hostname 2>/dev/null || echo unknown)}
say() { printf 'static-container-registry wiring: node %s: %s\\n' "$node" "$*" >&2; }

wire_once() {
  [ -d "$certs" ] || { say "$certs is not a directory: is the certs dir mounted?"; return 1; }
  [ -f "$src/${WIRING_LIST}" ] || { say "no $src/${WIRING_LIST}: is the wiring ConfigMap mounted?"; return 1; }
  while read -r host file; do
    case $host in '' | '#'*) continue ;; esac
    case $host in
      *[!a-z0-9.:-]* | [.:-]* | *..*) say "refusing host name '$host'"; return 1 ;;
    esac
    case $file in
      '' | *[!A-Za-z0-9._-]* | .*) say "refusing file name '$file' for $host"; return 1 ;;
    esac
    d=$certs/$host
    f=$d/hosts.toml
    if [ -f "$f" ] && cmp -s "$src/$file" "$f"; then continue; fi
    if [ -e "$f" ] && ! grep -qF "$marker" "$f"; then
      say "$f exists and was not written by static-container-registry: not overwriting it (move it away, then the next pass wires $host)"
      return 1
    fi
    mkdir -p "$d"
    tmp=$d/.hosts.toml.tmp.$$
    cp "$src/$file" "$tmp"
    chmod 0644 "$tmp"
    mv -f "$tmp" "$f"
    say "wrote $f"
  done <"$src/${WIRING_LIST}"
}

if [ -z "$interval" ]; then
  wire_once
  say "wired"
  exit 0
fi
case $interval in '' | *[!0-9]*) say "INTERVAL must be whole seconds, not '$interval'"; exit 2 ;; esac
trap 'exit 0' TERM INT
while :; do
  wire_once
  sleep "$interval" &
  wait $! || true
done
`;
}

/**
 * The wiring ConfigMap's data: the script, the list, and one file per host
 * (`hosts-N.toml`: a host with a port is not a valid ConfigMap key).
 * Deterministic: hosts in sorted order.
 */
export function wiringFiles(hostsTomls: Record<string, string>): Record<string, string> {
  const hosts = Object.keys(hostsTomls).sort();
  if (hosts.length === 0) throw new Error("node wiring: no upstream hosts to wire");
  const files: Record<string, string> = { [WIRING_SCRIPT]: wiringScript() };
  const list: string[] = ["# HOST FILE: CERTS_DIR/HOST/hosts.toml gets the content of FILE"];
  hosts.forEach((host, i) => {
    if (!HOST_RE.test(host)) throw new Error(`node wiring: "${host}" is not a registry host name`);
    const file = `hosts-${i}.toml`;
    list.push(`${host} ${file}`);
    files[file] = hostsTomls[host];
  });
  files[WIRING_LIST] = list.join("\n") + "\n";
  return files;
}

/** The pod template annotation that rolls the wiring pods when what they write changes. */
export function wiringHash(files: Record<string, string>): string {
  return filesHash(files);
}

export interface WiringDaemonSetInputs {
  /** Labels of the pods (and the selector's, which must be a subset). */
  labels: Record<string, string>;
  selector: Record<string, string>;
  annotations?: Record<string, string>;
  /** The wiring ConfigMap's name. */
  configMapName: k8s.types.input.core.v1.ConfigMapVolumeSource["name"];
  /** Hash of the ConfigMap's data. */
  contentHash: string | pulumi.Output<string>;
  /** Image with a POSIX sh and the tools listed at {@link wiringScript} (the registry's own image has them). */
  image: pulumi.Input<string>;
  imagePullPolicy: pulumi.Input<string>;
  imagePullSecrets?: pulumi.Input<string>[];
  /** containerd's hosts dir on the nodes. Default {@link DEFAULT_CERTS_DIR}. */
  certsDir?: string;
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

/** The wiring DaemonSet's spec. */
export function wiringDaemonSetSpec(w: WiringDaemonSetInputs): DaemonSetSpec {
  const certsDir = w.certsDir ?? DEFAULT_CERTS_DIR;
  if (!/^\/[A-Za-z0-9._/-]+$/.test(certsDir) || certsDir.split("/").includes(".."))
    throw new Error(`node wiring: certsDir "${certsDir}" must be an absolute path`);
  const interval = w.interval ?? DEFAULT_WIRING_INTERVAL;
  const mounts = [
    { name: "wiring", mountPath: WIRING_PATHS.config, readOnly: true },
    { name: "certs", mountPath: WIRING_PATHS.certs },
  ];
  const env = [{ name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }];
  const container = (name: string, command: string[]) => ({
    name,
    image: w.image,
    imagePullPolicy: w.imagePullPolicy,
    command,
    env,
    securityContext: WIRING_SECURITY_CONTEXT,
    resources: { requests: { cpu: "5m", memory: "8Mi" }, limits: { memory: "32Mi" } },
    volumeMounts: mounts,
    terminationMessagePolicy: "FallbackToLogsOnError",
  });
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
        initContainers: [container("wire", wiringCommand())],
        containers: [container("keep-wired", wiringCommand(interval))],
        volumes: [
          { name: "wiring", configMap: { name: w.configMapName, defaultMode: 0o444 } },
          // The one host directory the pod can touch.
          { name: "certs", hostPath: { path: certsDir, type: "DirectoryOrCreate" } },
        ],
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
