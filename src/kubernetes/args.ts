/**
 * The component's arguments, their defaults, and their validation.
 *
 * The public argument types use optional fields and no TypeScript union or
 * intersection types, so that the component can later be published as a Pulumi
 * package for every language. Choices such as "which storage" are expressed as
 * several optional fields of which exactly one must be set; `validateArgs`
 * enforces that and reports every mistake at once, at construction time.
 */
import * as fs from "node:fs";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { parseHostPort } from "../hostPort";
import { NAME } from "../inventory/grammar";
import { checkNodeArgs, type RegistryImageArgs, type ResolvedRegistryImage } from "../nodes/args";
import type { NodeTarget, NodeTargetArgs } from "../nodes/targets";
import { problemList } from "../problemList";
import { checkWorkload, Workload } from "./workload";
import { checkNetworkPolicy, type NetworkPolicyArgs, type ResolvedNetworkPolicy } from "./networkPolicy";
import { checkTls, type ResolvedTls, type TlsArgs } from "./tls";
import { checkMirrorArgs, type RegistryCredential, type ResolvedMirror } from "../mirror/component";

type Input<T> = pulumi.Input<T>;

/**
 * A pinned, non-root nginx (UID/GID 101, listens on unprivileged ports, ships
 * busybox `sh`, `sha256sum` and `stat` for the drift guard).
 *
 * The digest is the multi-arch index of `nginxinc/nginx-unprivileged:1.27-alpine`
 * as pinned by several public projects; it could not be re-checked against the
 * registry from the offline build machines. Override `image` to use your own
 * mirror of it (in a bootstrap the image itself must already be on the nodes or
 * served by this very registry from a hostNetwork pod).
 */
export const DEFAULT_IMAGE =
  "nginxinc/nginx-unprivileged:1.27-alpine@sha256:65e3e85dbaed8ba248841d9d58a899b6197106c23cb0ff1a132b7bfe0547e4c0";

/** UID and GID of the `nginx` user in the nginx-unprivileged images. */
export const DEFAULT_UID = 101;
export const DEFAULT_GID = 101;

/** See {@link StaticContainerRegistryArgs.workerProcesses}. */
export const DEFAULT_WORKER_PROCESSES = 2;

/** Registries conventionally listen on 5000. */
export const DEFAULT_PORT = 5000;

/**
 * Upstream host name the node wiring makes containerd / k3s redirect to this
 * registry when none is given. `.invalid` never resolves (RFC 2606), so a pull
 * of `static-container-registry.invalid/library/alpine:3.19` can only ever be
 * answered by the mirror.
 */
export const DEFAULT_UPSTREAM_HOST = "static-container-registry.invalid";

/**
 * Kubernetes rejects a ConfigMap whose data exceeds 1 MiB. We pack files into
 * ConfigMaps of at most this many bytes (keys + values) to leave room for the
 * object's metadata and managedFields within etcd's request limit.
 */
export const DEFAULT_MAX_CONFIGMAP_BYTES = 900 * 1024;

/** How the Service exposes the registry. */
export const ServiceType = {
  /** A cluster IP only; the nodes reach it through kube-proxy. */
  ClusterIP: "ClusterIP",
  /** A cluster IP plus a port on every node; the nodes' runtimes use `127.0.0.1:<nodePort>`. */
  NodePort: "NodePort",
  /** A cloud or MetalLB load balancer; the nodes' runtimes use its address. */
  LoadBalancer: "LoadBalancer",
} as const;
/** How the Service exposes the registry. */
export type ServiceType = (typeof ServiceType)[keyof typeof ServiceType];

/** When the kubelet pulls the nginx image. */
export const ImagePullPolicy = {
  /** Use the node's copy when there is one (a bootstrap has no other registry to pull from). */
  IfNotPresent: "IfNotPresent",
  /** Pull at every pod start. */
  Always: "Always",
  /** Never pull: the image must already be on the node. */
  Never: "Never",
} as const;
/** When the kubelet pulls the nginx image. */
export type ImagePullPolicy = (typeof ImagePullPolicy)[keyof typeof ImagePullPolicy];

export const SERVICE_TYPES = Object.values(ServiceType);
export const PULL_POLICIES = Object.values(ImagePullPolicy);

/** Serve the images from a directory on the node(s). */
export interface HostPathStorageArgs {
  /** Absolute path of the images directory on the nodes. */
  path: Input<string>;
  /**
   * Names of the nodes that hold a copy of the images (matched against the
   * `kubernetes.io/hostname` label with a required node affinity).
   */
  nodeNames?: Input<Input<string>[]>;
  /**
   * Node labels that select the nodes holding a copy of the images. The map
   * itself is plain (its keys are checked at construction); values may be Outputs.
   */
  nodeSelector?: Record<string, Input<string>>;
  /**
   * Set to true when every node that can run the pod holds the images (e.g.
   * they are baked into the node image), so no pinning is needed. Plain: the
   * pinning check needs it at construction.
   */
  anyNode?: boolean;
}

/** Serve the images from a PersistentVolumeClaim that already exists in the namespace. */
export interface ExistingClaimStorageArgs {
  /** Name of the claim (in the component's namespace). It is mounted read-only. */
  claimName: Input<string>;
}

/** The capacity recorded on the created PersistentVolume. */
export interface VolumeCapacityArgs {
  /**
   * A Kubernetes quantity such as `20Gi`. Nominal for the static volumes this
   * component creates: nothing enforces it, the claim always asks for less.
   */
  storage: Input<string>;
}

/** An NFS export that holds the images. */
export interface NfsVolumeArgs {
  /** Host name or IP address of the NFS server. */
  server: Input<string>;
  /** Exported path. */
  path: Input<string>;
  /** Mount the export read-only (the pods mount the volume read-only in any case). */
  readOnly?: Input<boolean>;
}

/** A volume provided by a CSI driver (statically provisioned). */
export interface CsiVolumeArgs {
  /** Name of the CSI driver, e.g. `nfs.csi.k8s.io`. */
  driver: Input<string>;
  /** The driver's handle of the volume. */
  volumeHandle: Input<string>;
  /** Driver-specific attributes of the volume. */
  volumeAttributes?: Input<Record<string, Input<string>>>;
  /** Filesystem type to mount, if the driver needs one (e.g. `ext4`). */
  fsType?: Input<string>;
}

/** A local disk or directory of one node (the volume then pins the pods to that node through `nodeAffinity`). */
export interface LocalVolumeArgs {
  /** Absolute path on the node. */
  path: Input<string>;
}

/**
 * What the created PersistentVolume is made of. A small subset of the
 * Kubernetes PersistentVolume spec: access is always `ReadOnlyMany`, the
 * reclaim policy always `Retain`, the claim reference always the component's
 * own claim. Exactly one source (nfs, csi, local) should be set.
 */
export interface PersistentVolumeSpecArgs {
  /** An NFS export. */
  nfs?: Input<NfsVolumeArgs>;
  /** A statically provisioned CSI volume. */
  csi?: Input<CsiVolumeArgs>;
  /** A local volume (give `nodeAffinity` too). */
  local?: Input<LocalVolumeArgs>;
  /** Access modes: `ReadOnlyMany` only (the default); anything writable is refused. */
  accessModes?: Input<Input<string>[]>;
  /** Nominal capacity of the volume. Default `1Mi` (see the README: the claim never depends on the images' size). */
  capacity?: Input<VolumeCapacityArgs>;
  /** Storage class that volume and claim share. Default `""` (no class: bound statically). */
  storageClassName?: Input<string>;
  /** Mount options, e.g. `["nfsvers=4.1", "ro"]`. */
  mountOptions?: Input<Input<string>[]>;
  /** Which nodes can reach the volume (required for `local`). */
  nodeAffinity?: Input<k8s.types.input.core.v1.VolumeNodeAffinity>;
}

/**
 * Create a PersistentVolume from the given spec, and a claim bound to exactly
 * that volume. Both use read-only access (`ReadOnlyMany`) and the volume is
 * retained when the claim goes away: this component never deletes images.
 */
export interface CreatedVolumeStorageArgs {
  /** The volume's source and placement (see PersistentVolumeSpecArgs). */
  spec: Input<PersistentVolumeSpecArgs>;
}

/** How long Pulumi waits for the component's Kubernetes objects (each a duration such as `10m` or `1h`). */
export interface TimeoutsArgs {
  /** For creating an object. */
  create?: string;
  /** For updating an object (a rollout of the pods). */
  update?: string;
  /** For deleting an object. */
  delete?: string;
}

/**
 * Arguments of StaticContainerRegistry. Fields that decide what is rendered
 * or which objects exist are plain values (known at construction); every
 * other field may be an Output.
 */
export interface StaticContainerRegistryArgs {
  /**
   * The images directory (skopeo `dir:` tree and/or OCI image layouts), read on
   * the machine that runs Pulumi when the component is constructed. A tree with
   * problems fails the preview with the full problem list. The pods see the
   * same content through the storage below; the drift guard checks that they do.
   * Plain: scanned at construction.
   */
  imagesDir: string;
  /**
   * Image references to mirror into `imagesDir` first (`alpine:3.19`,
   * `registry.k8s.io/pause:3.10`, `quay.io/org/app@sha256:…`), each to
   * `<imagesDir>/<host>/<path>/<tag>/` by a `command.local.Command` running
   * skopeo; the scan runs after them (so `imagesDir` may start empty). An
   * unchanged list is a no-op; a removed reference's tag is removed. With a
   * list, the component owns the host directories of `imagesDir`.
   */
  images?: string[];
  /** A file of image references, one per line (`#` comments, blank lines), read at construction. */
  imagesFile?: string;
  /** Credentials per registry host for `images`, e.g. `{"quay.io": {username, password}}`. Kept secret. */
  registryCredentials?: Input<Record<string, Input<RegistryCredential>>>;
  /** A registries.conf for skopeo (mirrors, insecure hosts) instead of its default ones. */
  registriesConf?: string;
  /** Hash every blob while scanning (slow on large trees). Manifests are always hashed. Plain: a scan option. */
  verify?: boolean;
  /**
   * Prefix prepended to every repository name served: empty, or a repository
   * name and `/` (e.g. `mirror/`). Plain: rendered into the nginx config.
   */
  namePrefix?: string;

  /** Namespace to deploy into. Default `default`. */
  namespace?: Input<string>;
  /**
   * Create the namespace (labelled with the strictest Pod Security level the
   * chosen mode allows) instead of using an existing one. Default false.
   * Plain: decides whether a Namespace object exists.
   */
  createNamespace?: boolean;

  /**
   * Storage, option 1: a directory on the nodes. Exactly one storage option
   * must be set. Plain object (which option is set decides the objects); its fields may be Outputs.
   */
  hostPath?: HostPathStorageArgs;
  /** Storage, option 2: an existing PersistentVolumeClaim. Plain object; `claimName` may be an Output. */
  existingClaim?: ExistingClaimStorageArgs;
  /** Storage, option 3: a PersistentVolume (and its claim) created from a spec. Plain object; `spec` may be an Output. */
  persistentVolume?: CreatedVolumeStorageArgs;

  /**
   * nginx image for the server and the drift guard. Default: the pinned
   * `nginxinc/nginx-unprivileged:1.27-alpine` (see `DEFAULT_IMAGE`).
   */
  image?: Input<string>;
  /**
   * When the kubelet pulls `image`. Default `IfNotPresent`: in a bootstrap
   * there is no other registry to pull from, so the image must be used from the node's cache.
   */
  imagePullPolicy?: Input<ImagePullPolicy>;
  /** Pull secrets for `image`, by name. The list is plain; each name may be an Output. */
  imagePullSecrets?: Input<string>[];
  /**
   * UID nginx runs as: a whole number, non-zero. Default 101 (the image's
   * `nginx` user). Plain: checked to be non-root before anything is deployed.
   */
  runAsUser?: number;
  /** GID nginx runs as: a whole number, non-zero. Default 101. Plain: checked like runAsUser. */
  runAsGroup?: number;

  /**
   * What runs the pods: `Deployment` (default; `replicas` pods) or `DaemonSet`
   * (one pod on each node that holds the images, on the host network unless
   * `hostNetwork` is false, when its port is a hostPort): every node pulls
   * from its own pod at `127.0.0.1:<port>`, and the Service sends in-cluster
   * clients to the pod on their node (`internalTrafficPolicy: Local`).
   */
  workload?: Workload;
  /**
   * Number of pods of the Deployment: a whole number >= 1. Default 1. With more than one, a
   * PodDisruptionBudget keeps all but one up. Plain: decides whether the PodDisruptionBudget exists.
   */
  replicas?: number;
  /** Container resources for nginx. Default: requests 50m CPU / 64Mi, limit 512Mi memory. */
  resources?: Input<k8s.types.input.core.v1.ResourceRequirements>;
  /**
   * Extra node selector for the pods (merged with the hostPath pinning). The
   * map is plain (merged at construction); values may be Outputs.
   */
  nodeSelector?: Record<string, Input<string>>;
  /** Tolerations of the pods, e.g. to run on tainted control-plane nodes. */
  tolerations?: Input<Input<k8s.types.input.core.v1.Toleration>[]>;
  /** Pod affinity rules (the hostPath node pinning is added to its node affinity). */
  affinity?: Input<k8s.types.input.core.v1.Affinity>;
  /** PriorityClass of the pods, e.g. `system-cluster-critical` for a bootstrap registry. */
  priorityClassName?: Input<string>;
  /**
   * Labels added to every object (the selector labels cannot be overridden).
   * Plain: merged into every object's labels and checked at construction.
   */
  labels?: Record<string, string>;
  /** Annotations added to every object (and to the pod template). Plain, like labels. */
  annotations?: Record<string, string>;

  /**
   * Service type. Default `ClusterIP`. Plain: decides where `nodeEndpoint` comes from.
   */
  serviceType?: ServiceType;
  /**
   * Name of the Service. Default: generated from the resource name with a
   * random suffix (like every other object), so that two instances never
   * collide in one namespace; the `endpoint` output always has the actual name.
   */
  serviceName?: Input<string>;
  /**
   * Port nginx listens on and the Service exposes: a whole number in
   * 1024-65535 (nginx has no capabilities). Default 5000. Plain: rendered into the nginx config.
   */
  port?: number;
  /**
   * Fixed node port (a whole number, usually 30000-32767) for `NodePort` /
   * `LoadBalancer` services. Default: allocated by the cluster.
   */
  nodePort?: Input<number>;
  /** Annotations for the Service only (e.g. load balancer settings). */
  serviceAnnotations?: Input<Record<string, Input<string>>>;
  /**
   * Run the pod in the node's network namespace, for a bootstrap node whose
   * container runtime must pull before the cluster network exists. The node
   * wiring then points at `127.0.0.1:<port>`. Violates the restricted and
   * baseline Pod Security levels. Default false, but true with workload `DaemonSet`.
   * Plain: decides the pod's shape and rollout.
   */
  hostNetwork?: boolean;

  /**
   * Upstream registry host the node wiring redirects to this registry, e.g.
   * `docker.io`, or a made-up `*.invalid` host. Default
   * `static-container-registry.invalid` (never resolves, so only the mirror can answer).
   * Plain: it names the wiring's files and mirror entries.
   */
  upstreamHost?: string;
  /**
   * `host:port` that container runtimes on the nodes use to reach the registry.
   * Default: `127.0.0.1:<port>` with hostNetwork, `127.0.0.1:<nodePort>` for a
   * NodePort service, the load balancer's address for `LoadBalancer`, else the
   * Service's cluster IP (kube-proxy makes it reachable from the nodes).
   */
  nodeEndpoint?: Input<string>;
  /** Cluster DNS domain used in the in-cluster endpoint. Default `cluster.local`. */
  clusterDomain?: Input<string>;
  /**
   * Also create the KEP-1755 `local-registry-hosting` ConfigMap in
   * `kube-public`, which tools such as Tilt read to find a local registry.
   * There is one per cluster: set this on one instance only. Plain: decides whether the ConfigMap exists.
   */
  localRegistryHosting?: boolean;
  /**
   * Also wire the nodes from inside the cluster, for nodes that cannot be
   * reached by SSH: a DaemonSet writes the containerd `hosts.toml` of every
   * upstream host into each node's `/etc/containerd/certs.d/<host>/` (its only
   * host access; containerd's CRI registry `config_path` must point there). It
   * never overwrites a hosts.toml it did not write. Runs as root without
   * capabilities: beyond the baseline Pod Security level (hostPath).
   */
  wiringDaemonSet?: boolean;
  /**
   * HTTPS: an existing `kubernetes.io/tls` Secret in the namespace, mounted
   * read-only; the registry port then speaks HTTPS (and HTTP/2) only, and the
   * node wiring outputs point at `https://` and trust the CA at `caFile` on
   * the nodes (put the CA certificate there). See src/kubernetes/tls.ts.
   */
  tls?: TlsArgs;
  /**
   * A NetworkPolicy: ingress to the registry port only from these namespaces,
   * CIDRs and the nodes (`nodeCidrs`, required when the nodes pull on a node
   * port or the host network); no egress. See src/kubernetes/networkPolicy.ts.
   */
  networkPolicy?: NetworkPolicyArgs;
  /**
   * With workload `StaticPod`: the kubelet's static pod manifests dir on the
   * nodes. Default `/etc/kubernetes/manifests` (kubeadm); k3s and RKE2 read
   * `/var/lib/rancher/k3s/agent/pod-manifests` and `/var/lib/rancher/rke2/agent/pod-manifests`.
   */
  staticPodManifestsDir?: string;

  /**
   * Upper bound on the data of one ConfigMap, in bytes (a whole number,
   * 65536-1048576); larger configs are split. Default 921600 (900 KiB). Plain: decides the split.
   */
  maxConfigMapBytes?: number;
  /**
   * nginx `worker_processes`: a whole number >= 1. Default 2: nginx's "auto"
   * counts the node's CPUs, not the pod's share of them, and serving files
   * needs few workers. Plain: rendered into the nginx config.
   */
  workerProcesses?: number;

  /**
   * Nodes reached over SSH (@pulumi/command): with `hostPath`, the images dir
   * is delivered to `hostPath.path` on each (incrementally, switched
   * atomically), `registryImage` is imported into each one's containerd, and
   * every upstream host's `hosts.toml` is written there. The pods wait for the
   * delivery and the import, and are pinned to these nodes unless
   * `hostPath` says otherwise.
   */
  nodes?: NodeTargetArgs[];
  /** The registry's own image as a local archive, imported on each of `nodes` (sets `image`). */
  registryImage?: RegistryImageArgs;

  /**
   * Do not wait for the Kubernetes objects to become ready (Pulumi's
   * `pulumi.com/skipAwait` annotation), e.g. in a bootstrap whose nodes cannot
   * pull the nginx image yet. Outputs that need the cluster (a load balancer's
   * address) may then be missing. Plain: set on every object at construction.
   */
  skipAwait?: boolean;
  /** How long Pulumi waits for each of the component's objects. Plain: a resource option. */
  customTimeouts?: TimeoutsArgs;
}

export type StorageMode = "hostPath" | "existingClaim" | "persistentVolume";

/** Args after validation, with every default filled in (internal). */
export interface ResolvedArgs {
  imagesDir: string;
  /** The images to mirror first, if a list was given. */
  mirror?: ResolvedMirror;
  verify: boolean;
  namePrefix: string;
  namespace: Input<string>;
  createNamespace: boolean;
  storage: StorageMode;
  hostPath?: HostPathStorageArgs;
  existingClaim?: ExistingClaimStorageArgs;
  persistentVolume?: CreatedVolumeStorageArgs;
  image: Input<string>;
  imagePullPolicy: Input<ImagePullPolicy>;
  imagePullSecrets: Input<string>[];
  runAsUser: number;
  runAsGroup: number;
  workload: Workload;
  replicas: number;
  resources: Input<k8s.types.input.core.v1.ResourceRequirements>;
  nodeSelector: Record<string, Input<string>>;
  tolerations?: Input<Input<k8s.types.input.core.v1.Toleration>[]>;
  affinity?: Input<k8s.types.input.core.v1.Affinity>;
  priorityClassName?: Input<string>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  serviceType: ServiceType;
  serviceName?: Input<string>;
  port: number;
  nodePort?: Input<number>;
  serviceAnnotations?: Input<Record<string, Input<string>>>;
  hostNetwork: boolean;
  upstreamHost: string;
  nodeEndpoint?: Input<string>;
  clusterDomain: Input<string>;
  localRegistryHosting: boolean;
  wiringDaemonSet: boolean;
  tls?: ResolvedTls;
  networkPolicy?: ResolvedNetworkPolicy;
  staticPodManifestsDir?: string;
  maxConfigMapBytes: number;
  workerProcesses: number;
  nodes: NodeTarget[];
  registryImage?: ResolvedRegistryImage;
  skipAwait: boolean;
  customTimeouts?: TimeoutsArgs;
}

export const DEFAULT_RESOURCES: k8s.types.input.core.v1.ResourceRequirements = {
  requests: { cpu: "50m", memory: "64Mi" },
  limits: { memory: "512Mi" },
};

/**
 * Thrown for invalid arguments; the message lists every problem found. A
 * Pulumi RunError, so that Pulumi prints the message without a stack trace.
 */
export class InvalidArgsError extends pulumi.RunError {
  constructor(
    readonly resourceName: string,
    readonly problems: string[],
  ) {
    super(`StaticContainerRegistry "${resourceName}": invalid arguments:\n` + problemList(problems));
    this.name = "InvalidArgsError";
  }
}

const READ_ONLY_ACCESS_MODES = new Set(["ReadOnlyMany"]);
const LABEL_VALUE_RE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const QUALIFIED_NAME_RE =
  /^(?:[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const NAME_PREFIX_RE = new RegExp(`^(?:${NAME}/)?$`);
const DNS_LABEL_RE = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const OBJECT_NAME_RE = /^[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?$/;

/**
 * Every argument, and whether it may be an Output: `input` if so; else why it
 * must be known at construction (said in the error when an Output arrives, as
 * it may from another language's SDK), `struct` for a plain object whose
 * fields may be Outputs. Also the list of names that exist: anything else is
 * a typo, reported rather than ignored.
 */
const ARGS: { [K in keyof StaticContainerRegistryArgs]-?: string } = {
  imagesDir: "it is scanned at construction",
  images: "it decides which mirror commands exist",
  imagesFile: "it is read at construction",
  registryCredentials: "input",
  registriesConf: "it is read at construction",
  verify: "it is a scan option",
  namePrefix: "it is rendered into the nginx config",
  namespace: "input",
  createNamespace: "it decides whether a Namespace is created",
  hostPath: "struct",
  existingClaim: "struct",
  persistentVolume: "struct",
  image: "input",
  imagePullPolicy: "input",
  imagePullSecrets: "it decides whether the pods get pull secrets",
  runAsUser: "it is checked to be non-root before anything is deployed",
  runAsGroup: "it is checked to be non-root before anything is deployed",
  workload: "it decides which objects run the pods",
  replicas: "it decides whether a PodDisruptionBudget is created",
  resources: "input",
  nodeSelector: "it is merged with the hostPath pinning at construction",
  tolerations: "input",
  affinity: "input",
  priorityClassName: "input",
  labels: "it is merged into every object's labels and checked at construction",
  annotations: "it is merged into every object's annotations at construction",
  serviceType: "it decides where nodeEndpoint comes from",
  serviceName: "input",
  port: "it is rendered into the nginx config",
  nodePort: "input",
  serviceAnnotations: "input",
  hostNetwork: "it decides the pods' network and rollout",
  upstreamHost: "it names the hosts.toml files and mirror entries of the wiring",
  nodeEndpoint: "input",
  clusterDomain: "input",
  localRegistryHosting: "it decides whether the local-registry-hosting ConfigMap is created",
  wiringDaemonSet: "it decides whether the wiring DaemonSet is created",
  maxConfigMapBytes: "it decides how the config is split into ConfigMaps",
  workerProcesses: "it is rendered into the nginx config",
  skipAwait: "it is set on every object at construction",
  customTimeouts: "it is a resource option",
  tls: "it decides how the pods are configured",
  networkPolicy: "it decides whether a NetworkPolicy is created",
  staticPodManifestsDir: "it is written into the node commands",
  nodes: "it decides which nodes get commands",
  registryImage: "it decides which nodes get commands",
};

/** Fields of each storage option and of the created volume's spec, for the same typo check. */
const STRUCT_FIELDS: Record<string, readonly string[]> = {
  hostPath: ["path", "nodeNames", "nodeSelector", "anyNode"],
  existingClaim: ["claimName"],
  persistentVolume: ["spec"],
  "persistentVolume.spec": [
    "nfs",
    "csi",
    "local",
    "accessModes",
    "capacity",
    "storageClassName",
    "mountOptions",
    "nodeAffinity",
  ],
  customTimeouts: ["create", "update", "delete"],
};

/** Fields of the created volume's spec that the component sets itself. */
const COMPONENT_VOLUME_FIELDS: Record<string, string> = {
  claimRef: "persistentVolume.spec.claimRef is set by the component; leave it out",
  persistentVolumeReclaimPolicy:
    "persistentVolume.spec.persistentVolumeReclaimPolicy is always Retain (the component never deletes images); leave it out",
};

function isOutputOrPromise(v: unknown): boolean {
  return pulumi.Output.isInstance(v) || v instanceof Promise;
}

/** A plain (already known) value, or undefined when it is an Output/Promise. */
function known<T>(v: Input<T> | undefined): T | undefined {
  if (v === undefined || v === null) return undefined;
  if (isOutputOrPromise(v)) return undefined;
  return v as T;
}

function isInt(n: unknown): n is number {
  return typeof n === "number" && Number.isInteger(n);
}

/** The known name closest to `name` (a typo suggestion), if one is close. */
function closest(name: string, names: readonly string[]): string | undefined {
  const distance = (a: string, b: string): number => {
    const d = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let prev = d[0];
      d[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const cur = d[j];
        d[j] = Math.min(
          d[j] + 1,
          d[j - 1] + 1,
          prev + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1),
        );
        prev = cur;
      }
    }
    return d[b.length];
  };
  const best = names.map((n) => ({ n, d: distance(name, n) })).sort((x, y) => x.d - y.d)[0];
  return best && best.d <= Math.max(2, Math.floor(name.length / 4)) ? best.n : undefined;
}

function checkNames(what: string, given: object, names: readonly string[], problems: string[]) {
  for (const k of Object.keys(given)) {
    if (names.includes(k) || (given as Record<string, unknown>)[k] === undefined) continue;
    if (what === "persistentVolume.spec" && k in COMPONENT_VOLUME_FIELDS) {
      problems.push(COMPONENT_VOLUME_FIELDS[k]);
      continue;
    }
    const hint = closest(k, names);
    problems.push(
      `unknown argument ${what === "" ? "" : `${what}.`}${k}${hint ? ` (did you mean ${what === "" ? "" : `${what}.`}${hint}?)` : ""}`,
    );
  }
}

/** Arguments that must be known at construction but arrived as Outputs, and structs that must be objects. */
function checkPlain(args: StaticContainerRegistryArgs, problems: string[]) {
  for (const [k, why] of Object.entries(ARGS)) {
    const v = (args as unknown as Record<string, unknown>)[k];
    if (v === undefined || why === "input") continue;
    if (why === "struct") {
      if (isOutputOrPromise(v) || typeof v !== "object" || v === null || Array.isArray(v)) {
        problems.push(
          `${k} must be an object (its fields may be Outputs), not ${isOutputOrPromise(v) ? "an Output: pass the object itself and make its fields the Outputs" : JSON.stringify(v)}`,
        );
      }
    } else if (isOutputOrPromise(v)) {
      problems.push(`${k} must be a plain value, not an Output: ${why}`);
    }
  }
}

function checkLabels(what: string, labels: Record<string, Input<string>> | undefined, problems: string[]) {
  if (labels === undefined || isOutputOrPromise(labels)) return;
  for (const [k, v] of Object.entries(labels)) {
    if (!QUALIFIED_NAME_RE.test(k)) problems.push(`${what}: "${k}" is not a valid label key`);
    if (!isOutputOrPromise(v) && (typeof v !== "string" || !LABEL_VALUE_RE.test(v)))
      problems.push(`${what}: value of "${k}" is not a valid label value`);
  }
}

function checkAnnotations(
  what: string,
  annotations: Input<Record<string, Input<string>>> | undefined,
  problems: string[],
) {
  if (annotations === undefined || isOutputOrPromise(annotations)) return;
  for (const [k, v] of Object.entries(annotations)) {
    if (!QUALIFIED_NAME_RE.test(k)) problems.push(`${what}: "${k}" is not a valid annotation key`);
    if (!isOutputOrPromise(v) && typeof v !== "string")
      problems.push(`${what}: value of "${k}" must be a string`);
  }
}

/**
 * Checks every argument that can be checked before anything is deployed, and
 * fills in the defaults. Throws an {@link InvalidArgsError} listing all problems.
 * `name` is the component's resource name (it becomes part of Kubernetes object
 * names, so it must be a DNS label).
 */
export function validateArgs(name: string, args: StaticContainerRegistryArgs | undefined): ResolvedArgs {
  const problems: string[] = [];
  if (!args || typeof args !== "object")
    throw new InvalidArgsError(name, ["args are required (at least imagesDir and a storage option)"]);

  if (!DNS_LABEL_RE.test(name) || name.length > 40) {
    problems.push(
      `the resource name "${name}" is used in Kubernetes object names: use at most 40 lowercase letters, digits and '-', starting and ending with a letter or digit`,
    );
  }
  checkNames("", args, Object.keys(ARGS), problems);
  checkPlain(args, problems);
  const struct = <T extends object>(k: keyof StaticContainerRegistryArgs): T | undefined => {
    const v = args[k];
    return v !== undefined &&
      typeof v === "object" &&
      v !== null &&
      !isOutputOrPromise(v) &&
      !Array.isArray(v)
      ? (v as T)
      : undefined;
  };

  // imagesDir: a plain path, read now.
  if (typeof args.imagesDir !== "string" || args.imagesDir === "") {
    if (!isOutputOrPromise(args.imagesDir))
      problems.push(
        "imagesDir is required: the images directory on the machine running Pulumi (a plain string, not an Output)",
      );
  } else {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(args.imagesDir);
    } catch {
      // With an image list, the mirror commands create it.
      if (args.images === undefined && args.imagesFile === undefined)
        problems.push(`imagesDir "${args.imagesDir}" does not exist`);
    }
    if (st && !st.isDirectory()) problems.push(`imagesDir "${args.imagesDir}" is not a directory`);
  }

  const nodeArgs = checkNodeArgs(args, problems);

  // Storage: exactly one of three.
  const chosen = (["hostPath", "existingClaim", "persistentVolume"] as const).filter(
    (k) => args[k] !== undefined,
  );
  let storage: StorageMode = "hostPath";
  if (chosen.length !== 1) {
    problems.push(
      chosen.length === 0
        ? "a storage option is required: set exactly one of hostPath, existingClaim or persistentVolume"
        : `set exactly one storage option, not ${chosen.join(" and ")}`,
    );
  } else {
    storage = chosen[0];
  }

  const hp = struct<HostPathStorageArgs>("hostPath");
  if (hp) {
    checkNames("hostPath", hp, STRUCT_FIELDS.hostPath, problems);
    const p = known(hp.path);
    if (hp.path === undefined || p === "") problems.push("hostPath.path is required");
    else if (typeof p === "string" && !p.startsWith("/"))
      problems.push(`hostPath.path "${p}" must be an absolute path on the node`);
    const names = known(hp.nodeNames);
    if (isOutputOrPromise(hp.nodeSelector))
      problems.push(`hostPath.nodeSelector must be a plain map (its values may be Outputs), not an Output`);
    if (hp.anyNode !== undefined && typeof hp.anyNode !== "boolean")
      problems.push(`hostPath.anyNode must be a plain true or false`);
    const pinned =
      nodeArgs.nodes.length > 0 ||
      (hp.nodeNames !== undefined && (names === undefined || names.length > 0)) ||
      Object.keys(known(hp.nodeSelector) ?? {}).length > 0 ||
      Object.keys(known(args.nodeSelector) ?? {}).length > 0 ||
      args.affinity !== undefined;
    if (!pinned && hp.anyNode !== true) {
      problems.push(
        "hostPath needs nodeNames or nodeSelector (or a top-level nodeSelector/affinity) so the pods land on the nodes that hold the images; set hostPath.anyNode = true if every node does",
      );
    }
    if (Array.isArray(names)) {
      for (const n of names) {
        const k = known(n);
        if (k !== undefined && (typeof k !== "string" || !LABEL_VALUE_RE.test(k) || k === ""))
          problems.push(`hostPath.nodeNames: "${k}" is not a valid node name`);
      }
    }
    checkLabels("hostPath.nodeSelector", known(hp.nodeSelector), problems);
  }
  const ec = struct<ExistingClaimStorageArgs>("existingClaim");
  if (ec) {
    checkNames("existingClaim", ec, STRUCT_FIELDS.existingClaim, problems);
    const c = known(ec.claimName);
    if (ec.claimName === undefined || c === "") problems.push("existingClaim.claimName is required");
    else if (typeof c === "string" && !OBJECT_NAME_RE.test(c)) {
      problems.push(`existingClaim.claimName "${c}" is not a valid object name`);
    }
  }
  const pv = struct<CreatedVolumeStorageArgs>("persistentVolume");
  if (pv) {
    checkNames("persistentVolume", pv, STRUCT_FIELDS.persistentVolume, problems);
    const spec = known(pv.spec);
    if (pv.spec === undefined) problems.push("persistentVolume.spec is required");
    else if (spec) {
      const modes = known(spec.accessModes);
      if (Array.isArray(modes)) {
        const bad = modes.filter((m) => typeof m === "string" && !READ_ONLY_ACCESS_MODES.has(m));
        if (bad.length > 0) {
          problems.push(
            `persistentVolume.spec.accessModes may only be ReadOnlyMany (the registry never writes), not ${bad.join(", ")}`,
          );
        }
      }
      checkNames("persistentVolume.spec", spec, STRUCT_FIELDS["persistentVolume.spec"], problems);
    }
  }

  // Pods.
  const workload = checkWorkload(args, problems);
  if (
    args.staticPodManifestsDir !== undefined &&
    (typeof args.staticPodManifestsDir !== "string" ||
      !/^\/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$/.test(args.staticPodManifestsDir))
  )
    problems.push(
      `staticPodManifestsDir must be an absolute path, not ${JSON.stringify(args.staticPodManifestsDir)}`,
    );
  if (args.staticPodManifestsDir !== undefined && workload.workload !== Workload.StaticPod)
    problems.push("staticPodManifestsDir needs workload StaticPod");
  if (args.wiringDaemonSet !== undefined && typeof args.wiringDaemonSet !== "boolean")
    problems.push(`wiringDaemonSet must be true or false, not ${JSON.stringify(args.wiringDaemonSet)}`);
  const replicas = args.replicas ?? 1;
  if (!isOutputOrPromise(replicas) && (!isInt(replicas) || replicas < 1))
    problems.push(`replicas must be a whole number >= 1, not ${args.replicas}`);
  const runAsUser = args.runAsUser ?? DEFAULT_UID;
  const runAsGroup = args.runAsGroup ?? DEFAULT_GID;
  if (!isOutputOrPromise(runAsUser) && (!isInt(runAsUser) || runAsUser < 1))
    problems.push(`runAsUser must be a non-root UID (>= 1), not ${args.runAsUser}`);
  if (!isOutputOrPromise(runAsGroup) && (!isInt(runAsGroup) || runAsGroup < 1))
    problems.push(`runAsGroup must be a non-root GID (>= 1), not ${args.runAsGroup}`);
  const imagePullPolicy = args.imagePullPolicy ?? ImagePullPolicy.IfNotPresent;
  const policy = known(imagePullPolicy);
  if (policy !== undefined && !(PULL_POLICIES as readonly string[]).includes(policy)) {
    problems.push(`imagePullPolicy must be one of ${PULL_POLICIES.join(", ")}, not "${policy}"`);
  }
  const image = args.image ?? nodeArgs.registryImage?.name ?? DEFAULT_IMAGE;
  if (known(image) === "") problems.push("image must not be empty");
  checkLabels("labels", known(args.labels), problems);
  checkLabels("nodeSelector", known(args.nodeSelector), problems);
  checkAnnotations("annotations", known(args.annotations), problems);
  checkAnnotations("serviceAnnotations", args.serviceAnnotations, problems);
  const pullSecrets = known(args.imagePullSecrets);
  if (pullSecrets !== undefined && !Array.isArray(pullSecrets))
    problems.push("imagePullSecrets must be a list of secret names");
  for (const s of Array.isArray(pullSecrets) ? pullSecrets : []) {
    const k = known(s);
    if (!isOutputOrPromise(s) && (typeof k !== "string" || k === ""))
      problems.push("imagePullSecrets must be secret names");
  }

  // Network.
  const port = args.port ?? DEFAULT_PORT;
  if (!isOutputOrPromise(port) && (!isInt(port) || port < 1024 || port > 65535)) {
    problems.push(
      `port must be a whole number in 1024-65535 (nginx runs without capabilities, so it cannot bind lower ports), not ${args.port}`,
    );
  }
  const serviceType = args.serviceType ?? ServiceType.ClusterIP;
  if (!isOutputOrPromise(serviceType) && !(SERVICE_TYPES as readonly string[]).includes(serviceType)) {
    problems.push(`serviceType must be one of ${SERVICE_TYPES.join(", ")}, not "${serviceType}"`);
  }
  if (args.nodePort !== undefined) {
    if (serviceType !== ServiceType.NodePort && serviceType !== ServiceType.LoadBalancer) {
      problems.push(`nodePort needs serviceType NodePort or LoadBalancer (serviceType is ${serviceType})`);
    }
    const np = known(args.nodePort);
    if (np !== undefined && (!isInt(np) || np < 1 || np > 65535)) {
      problems.push(`nodePort must be a port number (clusters allow 30000-32767 by default), not ${np}`);
    }
  }
  const sn = known(args.serviceName);
  if (sn !== undefined && (typeof sn !== "string" || !DNS_LABEL_RE.test(sn)))
    problems.push(`serviceName "${sn}" is not a valid Service name (a DNS label)`);
  const upstreamHost = args.upstreamHost ?? DEFAULT_UPSTREAM_HOST;
  const uh = known(upstreamHost);
  if (uh !== undefined && (typeof uh !== "string" || !parseHostPort(uh, { host: true }))) {
    problems.push(`upstreamHost must be a host name with an optional port (e.g. docker.io), not "${uh}"`);
  }
  const ne = known(args.nodeEndpoint);
  if (ne !== undefined && (typeof ne !== "string" || !parseHostPort(ne, { host: true })))
    problems.push(`nodeEndpoint must be host:port, not "${ne}"`);
  const clusterDomain = args.clusterDomain ?? "cluster.local";
  const cd = known(clusterDomain);
  if (cd !== undefined && (typeof cd !== "string" || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(cd)))
    problems.push(`clusterDomain "${cd}" is not a DNS name`);

  // Namespace.
  const ns = known(args.namespace);
  if (args.namespace !== undefined && (typeof ns === "string" ? !DNS_LABEL_RE.test(ns) : ns !== undefined)) {
    problems.push(`namespace "${String(ns)}" is not a valid namespace name`);
  }

  // Rendering.
  const maxConfigMapBytes = args.maxConfigMapBytes ?? DEFAULT_MAX_CONFIGMAP_BYTES;
  if (
    !isOutputOrPromise(maxConfigMapBytes) &&
    (!isInt(maxConfigMapBytes) || maxConfigMapBytes < 65536 || maxConfigMapBytes > 1024 * 1024)
  ) {
    problems.push(
      `maxConfigMapBytes must be between 65536 and 1048576 (Kubernetes' limit), not ${args.maxConfigMapBytes}`,
    );
  }
  if (
    args.workerProcesses !== undefined &&
    !isOutputOrPromise(args.workerProcesses) &&
    (!isInt(args.workerProcesses) || args.workerProcesses < 1)
  ) {
    problems.push(`workerProcesses must be a whole number >= 1, not ${args.workerProcesses}`);
  }
  if (
    args.namePrefix !== undefined &&
    !isOutputOrPromise(args.namePrefix) &&
    (typeof args.namePrefix !== "string" || !NAME_PREFIX_RE.test(args.namePrefix))
  ) {
    problems.push(
      `namePrefix "${args.namePrefix}" must be empty or a repository name followed by "/" (e.g. "mirror/")`,
    );
  }

  // Security.
  const tls = checkTls(args.tls, problems);
  const nodesPull =
    serviceType === "NodePort" ||
    serviceType === "LoadBalancer" ||
    workload.hostNetwork ||
    workload.workload === Workload.DaemonSet;
  const networkPolicy = checkNetworkPolicy(args.networkPolicy, nodesPull, problems);
  const mirror = checkMirrorArgs(args, problems);

  // Pulumi's handling of the objects.
  const timeouts = struct<TimeoutsArgs>("customTimeouts");
  if (timeouts) {
    checkNames("customTimeouts", timeouts, STRUCT_FIELDS.customTimeouts, problems);
    for (const [k, v] of Object.entries(timeouts)) {
      if (v !== undefined && (typeof v !== "string" || !/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(v)))
        problems.push(
          `customTimeouts.${k} must be a duration such as "10m" or "1h30m", not ${JSON.stringify(v)}`,
        );
    }
  }
  for (const k of [
    "verify",
    "createNamespace",
    "hostNetwork",
    "localRegistryHosting",
    "skipAwait",
  ] as const) {
    const v = args[k];
    if (v !== undefined && !isOutputOrPromise(v) && typeof v !== "boolean")
      problems.push(`${k} must be true or false, not ${JSON.stringify(v)}`);
  }

  if (problems.length > 0) throw new InvalidArgsError(name, problems);

  return {
    imagesDir: args.imagesDir,
    mirror,
    verify: args.verify ?? false,
    namePrefix: args.namePrefix ?? "",
    namespace: args.namespace ?? "default",
    createNamespace: args.createNamespace ?? false,
    storage,
    hostPath: withNodeNames(args.hostPath, nodeArgs.nodes),
    existingClaim: args.existingClaim,
    persistentVolume: args.persistentVolume,
    image,
    imagePullPolicy,
    imagePullSecrets: args.imagePullSecrets ?? [],
    runAsUser,
    runAsGroup,
    workload: workload.workload,
    replicas,
    resources: args.resources ?? DEFAULT_RESOURCES,
    nodeSelector: args.nodeSelector ?? {},
    tolerations: args.tolerations,
    affinity: args.affinity,
    priorityClassName: args.priorityClassName,
    labels: args.labels ?? {},
    annotations: args.annotations ?? {},
    serviceType,
    serviceName: args.serviceName,
    port,
    nodePort: args.nodePort,
    serviceAnnotations: args.serviceAnnotations,
    hostNetwork: workload.hostNetwork,
    upstreamHost,
    nodeEndpoint: args.nodeEndpoint,
    clusterDomain,
    localRegistryHosting: args.localRegistryHosting ?? false,
    wiringDaemonSet: args.wiringDaemonSet ?? false,
    ...(tls ? { tls } : {}),
    ...(networkPolicy ? { networkPolicy } : {}),
    staticPodManifestsDir: args.staticPodManifestsDir,
    maxConfigMapBytes,
    workerProcesses: args.workerProcesses ?? DEFAULT_WORKER_PROCESSES,
    ...nodeArgs,
    skipAwait: args.skipAwait ?? false,
    customTimeouts: args.customTimeouts,
  };
}

/** hostPath pinned to the SSH nodes (where the images are delivered) unless it names its own nodes. */
function withNodeNames(
  hp: HostPathStorageArgs | undefined,
  nodes: NodeTarget[],
): HostPathStorageArgs | undefined {
  if (hp === undefined || nodes.length === 0) return hp;
  const names = known(hp.nodeNames);
  const own =
    (hp.nodeNames !== undefined && (names === undefined || names.length > 0)) ||
    Object.keys(hp.nodeSelector ?? {}).length > 0 ||
    hp.anyNode;
  return own ? hp : { ...hp, nodeNames: nodes.map((n) => n.kubernetesNodeName) };
}

/**
 * Whether the pods can meet the Pod Security "restricted" level: hostPath
 * volumes (the images', the wiring DaemonSet's), the host network and host
 * ports (a DaemonSet's) are forbidden by "baseline" already.
 */
export function podSecurityLevel(
  a: Pick<ResolvedArgs, "storage" | "hostNetwork"> &
    Partial<Pick<ResolvedArgs, "workload" | "wiringDaemonSet">>,
): "restricted" | "privileged" {
  return a.storage === "hostPath" || a.hostNetwork || a.workload === Workload.DaemonSet || a.wiringDaemonSet
    ? "privileged"
    : "restricted";
}
