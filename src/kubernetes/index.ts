/**
 * The Kubernetes side: the StaticContainerRegistry component and the pure
 * parts it is made of (usable on their own, e.g. for other deployment tools).
 */
export { StaticContainerRegistry, STATIC_CONTAINER_REGISTRY_TYPE } from "./component";
export type { ServedRepository, ServedTag } from "./outputs";
export {
  DEFAULT_IMAGE,
  DEFAULT_NODE_CA_FILE,
  DEFAULT_PORT,
  DEFAULT_UPSTREAM_HOST,
  InvalidArgsError,
  validateArgs,
  type CreatedVolumeStorageArgs,
  type ExistingClaimStorageArgs,
  type HostPathStorageArgs,
  type NetworkPolicyArgs,
  type NodeTargetArgs,
  type RegistryImageArgs,
  type RemoteConnection,
  type StaticContainerRegistryArgs,
  type TlsArgs,
} from "./args";
export { ImagesTreeError, planRegistry, planFromInventory, type RegistryPlan } from "./plan";
export { renderDriftGuard, type DriftGuard, type DriftGuardOptions } from "./driftGuard";
export { shardFiles, filesHash, type Shard } from "./configMaps";
export { POD_PATHS } from "./workload";
export { networkPolicySpec } from "./networkPolicy";
