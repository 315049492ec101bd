/**
 * The registry as a kubelet static pod, for the bootstrap node.
 *
 * Before any API server runs, a kubelet already starts the pods whose
 * manifests lie in its manifests dir (`/etc/kubernetes/manifests` for
 * kubeadm). A registry started that way serves the control-plane images to
 * kubeadm / k3s / RKE2 while they bring the cluster up. A static pod cannot
 * use ConfigMaps, so its config files lie on the node's disk too, mounted
 * read-only by hostPath like the images; everything else is the
 * Deployment's pod: the same containers, drift guard, user and read-only
 * hardening, on the host network.
 *
 * This is a pure builder of the files to place on the node; the node steps
 * (src/nodes) place them over SSH, in the order given (`shWriteFiles`). The config lives in
 * a directory named after its content hash, written before the manifest that
 * points to it: the pod that is running keeps its own config dir until the
 * kubelet, seeing the new manifest (its content-hash annotation changed),
 * replaces it with a pod on the new one.
 */
import type * as k8s from "@pulumi/kubernetes";
import { stringify } from "yaml";
import { shWriteFiles, type NodeFile } from "../nodes/files";
import { asRoot } from "../nodes/scripts";
import { stdinScript } from "../nodes/nodeShell";
import { SCRIPT_PRELUDE, shQuote } from "../shell";
import type { ResolvedArgs } from "./args";
import { commonLabels } from "./labels";
import type { RegistryPlan } from "./plan";
import { IMAGES_VOLUME } from "./storage";
import {
  CONFIG_VOLUME,
  CONTENT_HASH_ANNOTATION,
  podSecurityContext,
  registryContainers,
  SCRATCH_SIZE_LIMIT,
  SCRATCH_VOLUME,
} from "./workload";

/** kubeadm's manifests dir (k3s and RKE2 read `/var/lib/rancher/{k3s,rke2}/agent/pod-manifests`). */
export const DEFAULT_MANIFESTS_DIR = "/etc/kubernetes/manifests";
/** Where each static registry's config dirs live on the node: `<root>/<name>/<hash>/`. */
export const DEFAULT_CONFIG_ROOT = "/etc/static-container-registry";
/** Static pods are usually in kube-system (the mirror pod the kubelet creates is `<name>-<node>`). */
export const DEFAULT_STATIC_POD_NAMESPACE = "kube-system";

/** Config files are readable by the pod's user and written by no one; the manifest is root's (as kubeadm's). */
const CONFIG_FILE_MODE = "0444";
const MANIFEST_MODE = "0600";

export interface StaticPodOptions {
  /** Pod name, and the manifest's file name (`<name>.yaml`): a DNS label. */
  name: string;
  /** Image, user, port, resources, labels and annotations, as for the Deployment (plain values: they go into a file). */
  args: Pick<
    ResolvedArgs,
    "imagePullPolicy" | "runAsUser" | "runAsGroup" | "port" | "labels" | "annotations"
  > & {
    image: string;
    /** Plain values (no Outputs): the manifest is a file. */
    resources: k8s.types.input.core.v1.ResourceRequirements;
  };
  /** The rendered files (rendered for the pod's paths, as for the Deployment). */
  plan: Pick<RegistryPlan, "files" | "nginxMain" | "driftGuardMain" | "contentHash">;
  /** Absolute path of the images dir on the node. */
  imagesPath: string;
  /** The kubelet's manifests dir. Default {@link DEFAULT_MANIFESTS_DIR}. */
  manifestsDir?: string;
  /** Parent of the config dirs. Default {@link DEFAULT_CONFIG_ROOT}. */
  configRoot?: string;
  /** Namespace of the pod. Default {@link DEFAULT_STATIC_POD_NAMESPACE}. */
  namespace?: string;
}

export interface StaticPod {
  /** The Pod object the manifest holds. */
  pod: Record<string, unknown>;
  /** Absolute path of the manifest on the node. */
  manifestPath: string;
  /** `<configRoot>/<name>`: every config dir of this pod lives below it (older ones may be removed once the manifest is placed). */
  configParent: string;
  /** The config dir of this content: `<configParent>/<first 16 hex of the content hash>`. */
  configDir: string;
  /** Every file to place, in order: the config files, then the manifest. */
  files: NodeFile[];
}

const DNS_LABEL_RE = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const SAFE_DIR_RE = /^\/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$/;
const FILE_NAME_RE = /^[A-Za-z0-9._-]+$/;

/**
 * What every static pod of ours runs with, before the cluster exists: the
 * node's network (no cluster network yet; the node's runtime pulls from
 * 127.0.0.1), the node's resolv.conf (no cluster DNS either), evicted last
 * (what kubeadm gives its own static pods), no service account or links.
 */
export const STATIC_POD_SPEC = {
  hostNetwork: true,
  dnsPolicy: "Default",
  priorityClassName: "system-node-critical",
  automountServiceAccountToken: false,
  enableServiceLinks: false,
} as const;

/**
 * A static pod's files in the order they are placed: its config files in
 * `configDir` (sorted, each name checked), then its manifest last — the
 * kubelet starts the pod as soon as the manifest lands, so what it refers to
 * must be there first.
 */
export function staticPodFiles(o: {
  configDir: string;
  files: Record<string, string>;
  manifestPath: string;
  /** Comment lines heading the manifest (each ending in a newline). */
  header: string;
  pod: Record<string, unknown>;
}): NodeFile[] {
  const files: NodeFile[] = Object.keys(o.files)
    .sort()
    .map((name) => {
      if (!FILE_NAME_RE.test(name)) throw new Error(`static pod: unexpected config file name "${name}"`);
      return { path: `${o.configDir}/${name}`, content: o.files[name], mode: CONFIG_FILE_MODE };
    });
  files.push({
    path: o.manifestPath,
    content: o.header + stringify(o.pod, { lineWidth: 0 }),
    mode: MANIFEST_MODE,
  });
  return files;
}

function checkDir(what: string, dir: string): string {
  if (!SAFE_DIR_RE.test(dir) || dir.split("/").includes(".."))
    throw new Error(`static pod: ${what} "${dir}" must be an absolute path of plain characters`);
  return dir;
}

/** The static pod and the files that make it, for one node. Pure and deterministic. */
export function staticPod(o: StaticPodOptions): StaticPod {
  if (!DNS_LABEL_RE.test(o.name)) throw new Error(`static pod: name "${o.name}" must be a DNS label`);
  const manifestsDir = checkDir("manifestsDir", o.manifestsDir ?? DEFAULT_MANIFESTS_DIR);
  const configParent = `${checkDir("configRoot", o.configRoot ?? DEFAULT_CONFIG_ROOT)}/${o.name}`;
  const imagesPath = checkDir("imagesPath", o.imagesPath);
  if (!/^[a-f0-9]{16,}$/.test(o.plan.contentHash))
    throw new Error(`static pod: content hash "${o.plan.contentHash}" is not hex`);
  const configDir = `${configParent}/${o.plan.contentHash.slice(0, 16)}`;

  const a = o.args;
  const { initContainers, containers } = registryContainers({
    args: { ...a, hostNetwork: true },
    nginxMain: o.plan.nginxMain,
    driftGuardMain: o.plan.driftGuardMain,
  });
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: o.name,
      namespace: o.namespace ?? DEFAULT_STATIC_POD_NAMESPACE,
      labels: commonLabels(o.name, "registry", a.labels),
      // The kubelet replaces a static pod whose manifest changed: the hash makes any config or images change one.
      annotations: { ...a.annotations, [CONTENT_HASH_ANNOTATION]: o.plan.contentHash },
    },
    spec: {
      ...STATIC_POD_SPEC,
      securityContext: podSecurityContext(a),
      initContainers,
      containers,
      volumes: [
        { name: CONFIG_VOLUME, hostPath: { path: configDir, type: "Directory" } },
        { name: IMAGES_VOLUME, hostPath: { path: imagesPath, type: "Directory" } },
        { name: SCRATCH_VOLUME, emptyDir: { sizeLimit: SCRATCH_SIZE_LIMIT } },
      ],
      terminationGracePeriodSeconds: 30,
    },
  };

  const manifestPath = `${manifestsDir}/${o.name}.yaml`;
  const files = staticPodFiles({
    configDir,
    files: o.plan.files,
    manifestPath,
    header:
      `# static-container-registry: kubelet static pod (generated; do not edit).\n` +
      `# Config: ${configDir}; images: ${imagesPath}.\n`,
    pod,
  });
  return { pod, manifestPath, configParent, configDir, files };
}

/**
 * The node step's script: places the files (config first, manifest last,
 * each atomically), then removes this pod's older config dirs (a running pod
 * keeps its own mounted). It travels on the step's standard input (see
 * ROOT_SH_FROM_STDIN): the config files of a large inventory, with the
 * catalog page, outgrow the 128 KiB a command text may have.
 */
export function placeStaticPodScript(node: string, sp: StaticPod): string {
  return stdinScript(`${SCRIPT_PRELUDE}umask 022
${shWriteFiles(sp.files)}
for d in ${shQuote(sp.configParent)}/*; do
  [ "$d" = ${shQuote(sp.configDir)} ] || rm -rf "$d"
done
printf 'static-container-registry: node %s: static pod %s placed\\n' ${shQuote(node)} ${shQuote(sp.manifestPath)}
`);
}

/** The node step's delete: the manifest first (the kubelet stops the pod), then every config dir. */
export function removeStaticPodScript(node: string, sp: StaticPod): string {
  return asRoot(`${SCRIPT_PRELUDE}rm -f ${shQuote(sp.manifestPath)}
rm -rf ${shQuote(sp.configParent)}
printf 'static-container-registry: node %s: static pod %s removed\\n' ${shQuote(node)} ${shQuote(sp.manifestPath)}
`);
}
