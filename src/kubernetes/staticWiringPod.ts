/**
 * The static pods' wiring watcher: a second kubelet static pod on each node
 * (`<name>-wiring`) that keeps the node's hosts.toml files to the registries
 * that answer. With static pods every node lists the other nodes' addresses
 * after its own registry (src/nodes/fallback.ts), and containerd before 2.1
 * waits 30 s per request on a node that drops packets; the watcher runs the
 * node wiring script (src/nodes/keepWired.ts) every few seconds with the
 * other nodes' registries to probe, so a dead or cut-off node is left out of
 * the list within seconds and put back once it answers.
 *
 * It is a pod of its own, not a container of the registry's: the node whose
 * registry is down (replaced, crashed, held back by the drift guard) is the
 * one that needs its list kept. Like the wiring DaemonSet's pods it runs as
 * root without any capability, read-only, and touches only the certs dir; it
 * runs on the host network (the other nodes' addresses are all there is
 * before the cluster network). Its files (the script, the hosts.toml texts,
 * the probe list) lie on the node in a directory named after their hash,
 * written before the manifest that points at it.
 *
 * k3s and RKE2 generate their containerd's hosts.toml from registries.yaml
 * themselves: there the watcher is not placed (the step says so), and the
 * fallback list stands as written.
 */
import { createHash } from "node:crypto";
import { shWriteFiles } from "../nodes/files";
import { PROBE_TIMEOUT_SECONDS } from "../nodes/keepWired";
import { asRoot } from "../nodes/scripts";
import { SCRIPT_PRELUDE, shQuote } from "../shell";
import { commonLabels } from "./labels";
import {
  DEFAULT_CONFIG_ROOT,
  DEFAULT_MANIFESTS_DIR,
  DEFAULT_STATIC_POD_NAMESPACE,
  STATIC_POD_SPEC,
  staticPodFiles,
  type StaticPod,
} from "./staticPod";
import { wiringContainer, wiringVolumes } from "./wiringDaemonSet";

/** Seconds between two passes of the watcher (a probe takes at most 2 s more). */
export const WATCH_INTERVAL = 2;

export interface StaticWiringPodOptions {
  /** The registry's static pod name: the watcher is `<name>-wiring`. */
  name: string;
  /** The registry's image (it has sh and curl or busybox wget). */
  image: string;
  imagePullPolicy: string;
  /** The wiring source files (`wiringFiles`: script, hosts.list, hosts-N.toml, probe.list). */
  files: Record<string, string>;
  manifestsDir?: string;
  configRoot?: string;
  namespace?: string;
  labels?: Record<string, string>;
}

/** The watcher's static pod and its files, for one node. Pure and deterministic. */
export function staticWiringPod(o: StaticWiringPodOptions): StaticPod {
  const name = `${o.name}-wiring`;
  if (!/^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/.test(name))
    throw new Error(`static pod: name "${name}" must be a DNS label`);
  const hash = createHash("sha256");
  for (const k of Object.keys(o.files).sort()) hash.update(`${k}\0${o.files[k]}\0`);
  const contentHash = hash.digest("hex");
  const configParent = `${o.configRoot ?? DEFAULT_CONFIG_ROOT}/${name}`;
  const configDir = `${configParent}/${contentHash.slice(0, 16)}`;
  const w = { image: o.image, imagePullPolicy: o.imagePullPolicy };
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: o.namespace ?? DEFAULT_STATIC_POD_NAMESPACE,
      labels: commonLabels(o.name, "wiring", o.labels),
      annotations: { "static-container-registry/wiring-hash": contentHash },
    },
    spec: {
      ...STATIC_POD_SPEC,
      securityContext: { seccompProfile: { type: "RuntimeDefault" } },
      containers: [wiringContainer(w, "keep-wired", WATCH_INTERVAL)],
      volumes: wiringVolumes(w, { name: "wiring", hostPath: { path: configDir, type: "Directory" } }),
      terminationGracePeriodSeconds: 5,
    },
  };
  const manifestPath = `${o.manifestsDir ?? DEFAULT_MANIFESTS_DIR}/${name}.yaml`;
  const files = staticPodFiles({
    configDir,
    files: o.files,
    manifestPath,
    header: `# static-container-registry: the wiring watcher, a kubelet static pod (generated; do not edit).\n`,
    pod,
  });
  return { pod, manifestPath, configParent, configDir, files };
}

const ON_RANCHER = `[ -d /etc/rancher/k3s ] || [ -d /etc/rancher/rke2 ]`;

/**
 * The node step's text: places the watcher (its files, then its manifest),
 * then removes its older file dirs; on k3s/RKE2 nodes it places nothing and
 * says why.
 */
export function placeWatcherScript(node: string, sp: StaticPod): string {
  const say = (m: string) =>
    `printf 'static-container-registry: node %s: %s\\n' ${shQuote(node)} ${shQuote(m)}`;
  return asRoot(`${SCRIPT_PRELUDE}umask 022
if ${ON_RANCHER}; then
  ${say("k3s/RKE2 write their own hosts.toml from registries.yaml: no wiring watcher; the other nodes stay listed unchecked")}
  exit 0
fi
${shWriteFiles(sp.files)}
for d in ${shQuote(sp.configParent)}/*; do
  [ "$d" = ${shQuote(sp.configDir)} ] || rm -rf "$d"
done
${say(`wiring watcher ${sp.manifestPath} placed`)}
`);
}

/**
 * The node step's delete: the manifest first (the kubelet stops the
 * watcher), then its files — without them a pass of the watcher fails before
 * it writes — and then as long as a pass in flight may still take, so that
 * the wiring's own delete, which runs next, has the last word.
 */
export function removeWatcherScript(node: string, sp: StaticPod): string {
  return asRoot(`${SCRIPT_PRELUDE}rm -f ${shQuote(sp.manifestPath)}
rm -rf ${shQuote(sp.configParent)}
sleep ${PROBE_TIMEOUT_SECONDS + 1}
printf 'static-container-registry: node %s: wiring watcher %s removed\\n' ${shQuote(node)} ${shQuote(sp.manifestPath)}
`);
}
