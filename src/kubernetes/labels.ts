/**
 * Names and labels shared by every object the component creates.
 */
import { createHash } from "node:crypto";

export const APP_NAME = "static-container-registry";

/** The labels that select this instance's pods: stable for the life of the Deployment. */
export function selectorLabels(instance: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": APP_NAME,
    "app.kubernetes.io/instance": instance,
  };
}

/**
 * The standard `app.kubernetes.io/*` labels plus the user's. The user's labels
 * come first so they can never change the selector labels.
 */
export function commonLabels(
  instance: string,
  component: string,
  user: Record<string, string> = {},
): Record<string, string> {
  return {
    ...user,
    ...selectorLabels(instance),
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/part-of": APP_NAME,
    "app.kubernetes.io/managed-by": "pulumi",
  };
}

/** Annotations, or undefined when there are none (so objects carry no empty map). */
export function annotationsOrNone(...sets: Record<string, string>[]): Record<string, string> | undefined {
  const merged = Object.assign({}, ...sets) as Record<string, string>;
  return Object.keys(merged).length > 0 ? merged : undefined;
}

/**
 * The instance name of a component: its resource name plus 8 hex digits of
 * the sha256 of project, stack and name. Resource names are unique only within
 * a stack; two stacks deploying a component of the same name into one
 * namespace must still get separate selectors and claim names.
 */
export function instanceName(name: string, project: string, stack: string): string {
  const key = createHash("sha256").update(`${project}\0${stack}\0${name}`).digest("hex");
  return `${name}-${key.slice(0, 8)}`;
}
