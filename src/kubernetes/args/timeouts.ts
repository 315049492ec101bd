/**
 * How Pulumi handles the component's Kubernetes objects: whether it waits
 * for them to become ready, and for how long.
 */
import { checkBooleans, checkNames, plainObject, type ArgTable } from "./common";

/** How long Pulumi waits for the component's Kubernetes objects (each a duration such as `10m` or `1h`). */
export interface TimeoutsArgs {
  /** For creating an object. */
  create?: string;
  /** For updating an object (a rollout of the pods). */
  update?: string;
  /** For deleting an object. */
  delete?: string;
}

/** Pulumi's handling of every object the component creates. */
export interface ResourceOptionsArgs {
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

export const RESOURCE_OPTION_ARGS: ArgTable<ResourceOptionsArgs> = {
  skipAwait: "it is set on every object at construction",
  customTimeouts: "it is a resource option",
};

export interface ResolvedResourceOptions {
  skipAwait: boolean;
  customTimeouts?: TimeoutsArgs;
}

const TIMEOUT_FIELDS = ["create", "update", "delete"] as const;

/** Checks the resource options, pushing every problem. */
export function checkResourceOptions(args: ResourceOptionsArgs, problems: string[]): ResolvedResourceOptions {
  const timeouts = plainObject<TimeoutsArgs>(args.customTimeouts);
  if (timeouts) {
    checkNames("customTimeouts", timeouts, TIMEOUT_FIELDS, problems);
    for (const [k, v] of Object.entries(timeouts)) {
      if (v !== undefined && (typeof v !== "string" || !/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(v)))
        problems.push(
          `customTimeouts.${k} must be a duration such as "10m" or "1h30m", not ${JSON.stringify(v)}`,
        );
    }
  }
  checkBooleans(args, ["skipAwait"], problems);
  return { skipAwait: args.skipAwait ?? false, customTimeouts: args.customTimeouts };
}
