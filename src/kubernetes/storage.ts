/**
 * The images volume: a directory on the node (hostPath), an existing
 * PersistentVolumeClaim, or a PersistentVolume + claim created here.
 * Whatever the source, the pod only ever gets it read-only.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type {
  CreatedVolumeStorageArgs,
  HostPathStorageArgs,
  PersistentVolumeSpecArgs,
  ResolvedArgs,
} from "./args";

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
  nodeSelector: Record<string, pulumi.Input<string>>;
  affinity?: pulumi.Input<Affinity>;
} {
  const nodeSelector = { ...a.nodeSelector, ...(a.hostPath?.nodeSelector ?? {}) };
  const nodeNames = a.hostPath?.nodeNames;
  if (nodeNames === undefined) return { nodeSelector, affinity: a.affinity };
  const affinity = pulumi
    .all([pulumi.output(a.affinity ?? {}), pulumi.output(nodeNames)])
    .apply(([user, names]): Affinity | undefined => {
      if (names.length === 0) return a.affinity === undefined ? undefined : user;
      const expr = { key: "kubernetes.io/hostname", operator: "In", values: [...names] };
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
  return { nodeSelector, affinity: affinity as pulumi.Output<Affinity> };
}

/**
 * The capacity a created volume records unless one is given, and what its
 * claim always asks for. Nominal on purpose: a statically bound read-only
 * volume enforces no size, and a claim whose request followed the images'
 * size would change with every images change; Kubernetes refuses to shrink a
 * claim and grows one only through an expandable storage class, so the
 * provider would replace it, which the `pvc-protection` finalizer blocks while
 * the pods mount it (and a Retain volume would not bind a new claim anyway).
 * The claim can ask for this little whatever the volume's capacity.
 */
export const NOMINAL_CAPACITY = "1Mi";

/** The created volume's spec, and the parts of it the claim must repeat. */
export interface ResolvedVolumeSpec {
  spec: PersistentVolumeSpec;
  accessModes: string[];
  storageClassName: string;
}

/**
 * The created volume's spec: the user's source and placement, with read-only
 * access, Retain (the component never deletes images), a claimRef that
 * reserves it for our claim, and (if not given) the nominal capacity.
 */
export function createdVolumeSpec(
  given: pulumi.Input<PersistentVolumeSpecArgs>,
  claim: { namespace: pulumi.Input<string>; name: string },
): pulumi.Output<ResolvedVolumeSpec> {
  return pulumi.all([pulumi.output(given), claim.namespace]).apply(([spec, namespace]) => {
    const accessModes = spec.accessModes ?? ["ReadOnlyMany"];
    const writable = accessModes.filter((m) => m !== "ReadOnlyMany");
    if (writable.length > 0) {
      // Only reachable when the spec was an Output (known specs are checked at construction).
      throw new Error(
        `persistentVolume.spec.accessModes may only be ReadOnlyMany, not ${writable.join(", ")}`,
      );
    }
    const storageClassName = spec.storageClassName ?? "";
    const { capacity, ...rest } = spec;
    return {
      spec: {
        ...rest,
        accessModes,
        capacity: { storage: capacity?.storage ?? NOMINAL_CAPACITY },
        persistentVolumeReclaimPolicy: "Retain",
        storageClassName,
        claimRef: { apiVersion: "v1", kind: "PersistentVolumeClaim", namespace, name: claim.name },
      } as PersistentVolumeSpec,
      accessModes,
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
 * to anything else. The claim's name is chosen here (the volume must name it)
 * from the instance name, which is unique to this component in its stack.
 * Nothing about either depends on the images, so an images change leaves
 * both untouched.
 */
export function createVolumeAndClaim(
  resourceName: string,
  instance: string,
  pv: CreatedVolumeStorageArgs,
  meta: { labels: Record<string, string>; annotations: Record<string, string> | undefined },
  namespace: pulumi.Input<string>,
  opts: pulumi.CustomResourceOptions,
): CreatedStorage {
  const claimName = `${instance}-images`;
  const resolved = createdVolumeSpec(pv.spec, { namespace, name: claimName });
  const volume = new k8s.core.v1.PersistentVolume(
    `${resourceName}-images`,
    { metadata: { ...meta }, spec: resolved.spec },
    opts,
  );
  const claim = new k8s.core.v1.PersistentVolumeClaim(
    `${resourceName}-images`,
    {
      metadata: { name: claimName, namespace, ...meta },
      spec: {
        accessModes: resolved.accessModes,
        storageClassName: resolved.storageClassName,
        volumeName: volume.metadata.name,
        resources: { requests: { storage: NOMINAL_CAPACITY } },
      },
    },
    opts,
  );
  return { volume, claim };
}
