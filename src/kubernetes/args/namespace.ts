/**
 * The namespace the registry is deployed into: an existing one, or one the
 * component creates (labelled with the strictest Pod Security level the mode
 * allows, see `podSecurityLevel` in index.ts).
 */
import { checkBooleans, DNS_LABEL_RE, known, type ArgTable, type Input } from "./common";

/** Where the registry's objects go. */
export interface NamespaceArgs {
  /** Namespace to deploy into. Default `default`. */
  namespace?: Input<string>;
  /**
   * Create the namespace (labelled with the strictest Pod Security level the
   * chosen mode allows) instead of using an existing one. Default false.
   * Plain: decides whether a Namespace object exists.
   */
  createNamespace?: boolean;
}

export const NAMESPACE_ARGS: ArgTable<NamespaceArgs> = {
  namespace: "input",
  createNamespace: "it decides whether a Namespace is created",
};

export interface ResolvedNamespace {
  namespace: Input<string>;
  createNamespace: boolean;
}

/** Checks the namespace arguments, pushing every problem. */
export function checkNamespace(args: NamespaceArgs, problems: string[]): ResolvedNamespace {
  const ns = known(args.namespace);
  if (args.namespace !== undefined && (typeof ns === "string" ? !DNS_LABEL_RE.test(ns) : ns !== undefined)) {
    problems.push(`namespace "${String(ns)}" is not a valid namespace name`);
  }
  checkBooleans(args, ["createNamespace"], problems);
  return { namespace: args.namespace ?? "default", createNamespace: args.createNamespace ?? false };
}
