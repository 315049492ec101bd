/**
 * The component's node arguments — `nodes` (reached over SSH) and
 * `registryImage` (the registry's own image as an archive) — their checks and
 * what they imply for the rest: the pods are pinned to the listed nodes, and
 * they run the archive's image.
 */
import * as fs from "node:fs";
import { archiveImageName } from "./archive";
import { fileSha256 } from "./delivery";
import { checkNodes, type NodeTarget, type NodeTargetArgs } from "./targets";

/** The registry's own image, for nodes that cannot pull it from anywhere. */
export interface RegistryImageArgs {
  /**
   * A local `docker-archive` or `oci-archive` file of the nginx image the pods
   * run (make one with `static-container-registry mirror --archive`, or
   * `skopeo copy docker://IMAGE oci-archive:FILE:IMAGE`). It is copied to each
   * of `nodes` and imported into the node's containerd (k3s/RKE2: also put in
   * the agent's images dir) before the pods start.
   */
  archive: string;
  /** The image name inside the archive, when the archive does not carry a full one. */
  name?: string;
}

export interface ResolvedRegistryImage {
  archive: string;
  /** As containerd names it after the import (e.g. `docker.io/library/nginx:1.27`). */
  name: string;
  /** sha256 of the archive file, hex. */
  sha256: string;
}

export interface NodeArgsInput {
  nodes?: NodeTargetArgs[];
  registryImage?: RegistryImageArgs;
  image?: unknown;
}

export interface ResolvedNodeArgs {
  nodes: NodeTarget[];
  registryImage?: ResolvedRegistryImage;
}

/** Checks `nodes` and `registryImage`, pushing every problem onto `problems`. */
export function checkNodeArgs(args: NodeArgsInput, problems: string[]): ResolvedNodeArgs {
  const nodes = checkNodes(args.nodes, problems);
  const ri = args.registryImage;
  if (ri === undefined) return { nodes };
  if (args.image !== undefined) problems.push("set image or registryImage, not both");
  if (nodes.length === 0)
    problems.push("registryImage needs nodes: the archive is imported on each node over SSH");
  if (!ri || typeof ri.archive !== "string" || ri.archive === "") {
    problems.push(
      "registryImage.archive is required: a docker-archive or oci-archive file of the nginx image",
    );
    return { nodes };
  }
  if (!fs.statSync(ri.archive, { throwIfNoEntry: false })?.isFile()) {
    problems.push(`registryImage.archive "${ri.archive}" is not a file`);
    return { nodes };
  }
  let name = ri.name;
  if (name === undefined) {
    try {
      name = archiveImageName(ri.archive);
    } catch (e) {
      problems.push(`registryImage.archive: ${(e as Error).message}`);
      return { nodes };
    }
  }
  return { nodes, registryImage: { archive: ri.archive, name, sha256: fileSha256(ri.archive) } };
}

/**
 * `args` as the component records them (its own inputs, kept in the stack's
 * state): with the nodes' credentials as secrets, so that a private key given
 * as a plain string is never stored in plain text.
 */
export function withSecretCredentials<T extends NodeArgsInput>(args: T, nodes: NodeTarget[]): T {
  if (args.nodes === undefined) return args;
  return {
    ...args,
    nodes: nodes.map((n) => ({
      name: n.name,
      kubernetesNodeName: n.kubernetesNodeName,
      connection: n.connection,
    })),
  };
}
