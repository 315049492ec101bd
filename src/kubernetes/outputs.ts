/**
 * What the component answers, as plain values: the record the build steps
 * fill in and the component registers. It lives below both (the steps must not
 * import the component that runs them). The documented declaration of each
 * output, the one the schema for other languages is inferred from, is the
 * class field in component.ts; a compile-time check there keeps the fields and
 * this record the same.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { InventorySummary } from "../inventory/model";
import type { Workload } from "./args";

/** A tag served by the registry and the digest it resolves to. */
export interface ServedTag {
  /** The tag, e.g. `3.19`. */
  tag: string;
  /** The digest the tag resolves to, `sha256:<hex>`. */
  digest: string;
}

/** A repository served by the registry (name as clients use it, prefix included). */
export interface ServedRepository {
  /** Repository name as clients pull it, name prefix included (e.g. `docker.io/library/alpine`). */
  name: string;
  /** Its tags, in lexical order. */
  tags: ServedTag[];
}

/** The value of every output (see the class fields of StaticContainerRegistry for what each is). */
export interface RegistryOutputValues {
  namespace: string;
  serviceName: string;
  deploymentName: string;
  workload: Workload;
  workloadName: string;
  endpoint: string;
  nodeEndpoint: string;
  nodePort: number | undefined;
  configMapNames: string[];
  repositories: ServedRepository[];
  summary: InventorySummary;
  totalBytes: number;
  contentHash: string;
  hostsToml: string;
  hostsTomls: Record<string, string>;
  registriesYaml: string;
  upstreamHost: string;
}

/** Names of the component's outputs. */
export type RegistryOutputName = keyof RegistryOutputValues;

/** What the build steps produce: a value, or an Output of one, for every output. */
export type RegistryOutputs = { [K in RegistryOutputName]: pulumi.Input<RegistryOutputValues[K]> };
