/**
 * Where the pods read the images: exactly one of a directory on the nodes
 * (hostPath, with the pods pinned to the nodes that hold a copy), an existing
 * PersistentVolumeClaim, or a PersistentVolume and its claim created from a
 * spec. Whatever the source, the pods only ever get it read-only.
 */
import type * as k8s from "@pulumi/kubernetes";
import {
  checkLabels,
  checkNames,
  isOutputOrPromise,
  known,
  LABEL_VALUE_RE,
  OBJECT_NAME_RE,
  plainObject,
  type ArgTable,
  type Input,
} from "./common";

/** Serve the images from a directory on the node(s). */
export interface HostPathStorageArgs {
  /**
   * Absolute path of the images directory on the nodes. With SSH `nodes` it
   * is the delivery's store instead (it may be a dedicated disk's mount point,
   * an existing empty directory or a new path; nothing is written beside it),
   * and the pods mount the set they were made for, `<path>/sets/<set id>`.
   */
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

/** The images volume: exactly one of these. */
export interface StorageArgs {
  /**
   * Storage, option 1: a directory on the nodes. Exactly one storage option
   * must be set. Plain object (which option is set decides the objects); its fields may be Outputs.
   */
  hostPath?: HostPathStorageArgs;
  /** Storage, option 2: an existing PersistentVolumeClaim. Plain object; `claimName` may be an Output. */
  existingClaim?: ExistingClaimStorageArgs;
  /** Storage, option 3: a PersistentVolume (and its claim) created from a spec. Plain object; `spec` may be an Output. */
  persistentVolume?: CreatedVolumeStorageArgs;
}

export const STORAGE_ARGS: ArgTable<StorageArgs> = {
  hostPath: "struct",
  existingClaim: "struct",
  persistentVolume: "struct",
};

export type StorageMode = "hostPath" | "existingClaim" | "persistentVolume";

/** The storage arguments, checked (internal). */
export interface ResolvedStorage {
  storage: StorageMode;
  /** Pinned to the SSH nodes unless it names its own nodes. */
  hostPath?: HostPathStorageArgs;
  existingClaim?: ExistingClaimStorageArgs;
  persistentVolume?: CreatedVolumeStorageArgs;
}

/** Fields of each storage option and of the created volume's spec, for the typo check. */
const STRUCT_FIELDS = {
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
} as const;

/** Fields of the created volume's spec that the component sets itself. */
const COMPONENT_VOLUME_FIELDS: Record<string, string> = {
  claimRef: "persistentVolume.spec.claimRef is set by the component; leave it out",
  persistentVolumeReclaimPolicy:
    "persistentVolume.spec.persistentVolumeReclaimPolicy is always Retain (the component never deletes images); leave it out",
};

const READ_ONLY_ACCESS_MODES = new Set(["ReadOnlyMany"]);

/**
 * Checks the storage arguments, pushing every problem. A hostPath must pin
 * the pods to the nodes that hold the images: by its own nodeNames or
 * nodeSelector, the top-level nodeSelector or affinity, or the SSH `nodes`
 * (the images are delivered there, and it is pinned to them).
 */
export function checkStorage(
  args: StorageArgs & { nodeSelector?: Record<string, Input<string>>; affinity?: unknown },
  nodes: readonly { kubernetesNodeName: string }[],
  problems: string[],
): ResolvedStorage {
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

  const hp = plainObject<HostPathStorageArgs>(args.hostPath);
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
      nodes.length > 0 ||
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
  const ec = plainObject<ExistingClaimStorageArgs>(args.existingClaim);
  if (ec) {
    checkNames("existingClaim", ec, STRUCT_FIELDS.existingClaim, problems);
    const c = known(ec.claimName);
    if (ec.claimName === undefined || c === "") problems.push("existingClaim.claimName is required");
    else if (typeof c === "string" && !OBJECT_NAME_RE.test(c)) {
      problems.push(`existingClaim.claimName "${c}" is not a valid object name`);
    }
  }
  const pv = plainObject<CreatedVolumeStorageArgs>(args.persistentVolume);
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
      checkNames(
        "persistentVolume.spec",
        spec,
        STRUCT_FIELDS["persistentVolume.spec"],
        problems,
        COMPONENT_VOLUME_FIELDS,
      );
    }
  }
  return {
    storage,
    hostPath: withNodeNames(args.hostPath, nodes),
    existingClaim: args.existingClaim,
    persistentVolume: args.persistentVolume,
  };
}

/** hostPath pinned to the SSH nodes (where the images are delivered) unless it names its own nodes. */
function withNodeNames(
  hp: HostPathStorageArgs | undefined,
  nodes: readonly { kubernetesNodeName: string }[],
): HostPathStorageArgs | undefined {
  if (hp === undefined || nodes.length === 0) return hp;
  const names = known(hp.nodeNames);
  const own =
    (hp.nodeNames !== undefined && (names === undefined || names.length > 0)) ||
    Object.keys(hp.nodeSelector ?? {}).length > 0 ||
    hp.anyNode;
  return own ? hp : { ...hp, nodeNames: nodes.map((n) => n.kubernetesNodeName) };
}
