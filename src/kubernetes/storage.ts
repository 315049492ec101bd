/**
 * The images volume: a directory on the node (hostPath), an existing
 * PersistentVolumeClaim, or a PersistentVolume + claim created here.
 * Whatever the source, the pod only ever gets it read-only.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { CreatedVolumeStorageArgs, HostPathStorageArgs, ResolvedArgs } from "./args";
import { annotationsOrNone, commonLabels } from "./labels";

type Volume = k8s.types.input.core.v1.Volume;
type Affinity = k8s.types.input.core.v1.Affinity;
type PersistentVolumeSpec = k8s.types.input.core.v1.PersistentVolumeSpec;

/** Name of the images volume in the pod spec. */
export const IMAGES_VOLUME = "images";

/** A hostPath volume. `Directory`: the kubelet refuses to start the pod if the path is not an existing directory. */
export function hostPathVolume(hp: HostPathStorageArgs): Volume {
  return { name: IMAGES_VOLUME, hostPath: { path: hp.path, type: "Directory" } };
}

/** A claim mounted read-only (the kubelet mounts the volume itself read-only too). */
export function claimVolume(claimName: pulumi.Input<string>): Volume {
  return { name: IMAGES_VOLUME, persistentVolumeClaim: { claimName, readOnly: true } };
}

/**
 * The node pinning a hostPath needs: a nodeSelector (the user's top-level one
 * merged with hostPath.nodeSelector) and, for nodeNames, a required node
 * affinity on `kubernetes.io/hostname`, added to every term of the user's own
 * required node affinity (terms are ORed, expressions within a term ANDed).
 */
export function pinnedScheduling(a: Pick<ResolvedArgs, "nodeSelector" | "affinity" | "hostPath">): {
  nodeSelector: Record<string, string>;
  affinity?: pulumi.Input<Affinity>;
} {
  const nodeSelector = { ...a.nodeSelector, ...(a.hostPath?.nodeSelector ?? {}) };
  const names = a.hostPath?.nodeNames ?? [];
  if (names.length === 0) return { nodeSelector, affinity: a.affinity };
  const expr = { key: "kubernetes.io/hostname", operator: "In", values: [...names] };
  const affinity = pulumi.output(a.affinity ?? {}).apply((user): Affinity => {
    const required = user.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    const terms = required?.nodeSelectorTerms?.length
      ? required.nodeSelectorTerms.map((t) => ({
          ...t,
          matchExpressions: [...(t.matchExpressions ?? []), expr],
        }))
      : [{ matchExpressions: [expr] }];
    return {
      ...user,
      nodeAffinity: {
        ...(user.nodeAffinity ?? {}),
        requiredDuringSchedulingIgnoredDuringExecution: { ...(required ?? {}), nodeSelectorTerms: terms },
      },
    };
  });
  return { nodeSelector, affinity };
}

/** A capacity for `bytes` in whole MiB (at least 1Mi): what a created volume claims by default. */
export function capacityFor(bytes: number): string {
  return `${Math.max(1, Math.ceil(bytes / (1024 * 1024)))}Mi`;
}

/** The created volume's spec, and the parts of it the claim must repeat. */
export interface ResolvedVolumeSpec {
  spec: PersistentVolumeSpec;
  accessModes: string[];
  storage: string;
  storageClassName: string;
}

/**
 * The created volume's spec: the user's, with read-only access, Retain (the
 * component never deletes images), a claimRef that reserves it for our claim,
 * and (if not given) a capacity equal to the images' size.
 */
export function createdVolumeSpec(
  given: pulumi.Input<PersistentVolumeSpec>,
  claim: { namespace: pulumi.Input<string>; name: string },
  defaultCapacity: string,
): pulumi.Output<ResolvedVolumeSpec> {
  return pulumi.all([pulumi.output(given), claim.namespace]).apply(([spec, namespace]) => {
    const accessModes = (spec.accessModes as string[] | undefined) ?? ["ReadOnlyMany"];
    const writable = accessModes.filter((m) => m !== "ReadOnlyMany");
    if (writable.length > 0) {
      // Only reachable when the spec was an Output (known specs are checked at construction).
      throw new Error(
        `persistentVolume.spec.accessModes may only be ReadOnlyMany, not ${writable.join(", ")}`,
      );
    }
    const capacity = (spec.capacity as Record<string, string> | undefined) ?? { storage: defaultCapacity };
    const storageClassName = (spec.storageClassName as string | undefined) ?? "";
    return {
      spec: {
        ...spec,
        accessModes,
        capacity,
        persistentVolumeReclaimPolicy: "Retain",
        storageClassName,
        claimRef: { apiVersion: "v1", kind: "PersistentVolumeClaim", namespace, name: claim.name },
      } as PersistentVolumeSpec,
      accessModes,
      storage: capacity["storage"] ?? defaultCapacity,
      storageClassName,
    };
  });
}

export interface CreatedStorage {
  volume: k8s.core.v1.PersistentVolume;
  claim: k8s.core.v1.PersistentVolumeClaim;
}

/**
 * Creates the PersistentVolume and its claim, bound to each other both ways
 * (claimRef on the volume, volumeName on the claim) so that neither can bind
 * to anything else. The claim has a fixed name for that reason.
 */
export function createVolumeAndClaim(
  name: string,
  pv: CreatedVolumeStorageArgs,
  a: Pick<ResolvedArgs, "labels" | "annotations">,
  namespace: pulumi.Input<string>,
  imagesBytes: number,
  opts: pulumi.CustomResourceOptions,
): CreatedStorage {
  const claimName = `${name}-images`;
  const labels = commonLabels(name, "storage", a.labels);
  const resolved = createdVolumeSpec(pv.spec, { namespace, name: claimName }, capacityFor(imagesBytes));
  const volume = new k8s.core.v1.PersistentVolume(
    `${name}-images`,
    { metadata: { labels, annotations: annotationsOrNone(a.annotations) }, spec: resolved.spec },
    opts,
  );
  const claim = new k8s.core.v1.PersistentVolumeClaim(
    `${name}-images`,
    {
      metadata: { name: claimName, namespace, labels, annotations: annotationsOrNone(a.annotations) },
      spec: {
        accessModes: resolved.accessModes,
        storageClassName: resolved.storageClassName,
        volumeName: volume.metadata.name,
        resources: { requests: { storage: resolved.storage } },
      },
    },
    opts,
  );
  return { volume, claim };
}
