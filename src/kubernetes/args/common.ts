/**
 * What every concern's argument check shares: the error that lists every
 * problem, telling known values from Outputs, the typo check of argument
 * names, the plain-ness table, and the Kubernetes name, label and annotation
 * rules.
 *
 * The public argument types use optional fields and no TypeScript union or
 * intersection types, so that the component can be published as a Pulumi
 * package for every language. Choices such as "which storage" are expressed as
 * several optional fields of which exactly one must be set; the checks enforce
 * that and report every mistake at once, at construction time.
 */
import * as pulumi from "@pulumi/pulumi";
import { problemList } from "../../problemList";

export type Input<T> = pulumi.Input<T>;

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

/**
 * For every argument of a concern, whether it may be an Output: `input` if so;
 * else why it must be known at construction (said in the error when an Output
 * arrives, as it may from another language's SDK), `struct` for a plain object
 * whose fields may be Outputs. Also the list of names that exist: anything else
 * is a typo, reported rather than ignored.
 */
export type ArgTable<T> = { [K in keyof T]-?: string };

export const LABEL_VALUE_RE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const QUALIFIED_NAME_RE =
  /^(?:[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
export const DNS_LABEL_RE = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
export const OBJECT_NAME_RE = /^[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?$/;

export function isOutputOrPromise(v: unknown): boolean {
  return pulumi.Output.isInstance(v) || v instanceof Promise;
}

/** A plain (already known) value, or undefined when it is an Output/Promise. */
export function known<T>(v: Input<T> | undefined): T | undefined {
  if (v === undefined || v === null) return undefined;
  if (isOutputOrPromise(v)) return undefined;
  return v as T;
}

export function isInt(n: unknown): n is number {
  return typeof n === "number" && Number.isInteger(n);
}

/** `v` when it is a plain object (not an Output, a Promise or a list), else undefined. */
export function plainObject<T extends object>(v: unknown): T | undefined {
  return v !== undefined && typeof v === "object" && v !== null && !isOutputOrPromise(v) && !Array.isArray(v)
    ? (v as T)
    : undefined;
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

/**
 * Reports every field of `given` that is not one of `names` (with the closest
 * name as a hint); `own` says what to do instead for fields the component sets
 * itself.
 */
export function checkNames(
  what: string,
  given: object,
  names: readonly string[],
  problems: string[],
  own: Record<string, string> = {},
) {
  for (const k of Object.keys(given)) {
    if (names.includes(k) || (given as Record<string, unknown>)[k] === undefined) continue;
    if (k in own) {
      problems.push(own[k]);
      continue;
    }
    const hint = closest(k, names);
    problems.push(
      `unknown argument ${what === "" ? "" : `${what}.`}${k}${hint ? ` (did you mean ${what === "" ? "" : `${what}.`}${hint}?)` : ""}`,
    );
  }
}

/** Arguments that must be known at construction but arrived as Outputs, and structs that must be objects. */
export function checkPlain(args: object, table: Record<string, string>, problems: string[]) {
  for (const [k, why] of Object.entries(table)) {
    const v = (args as Record<string, unknown>)[k];
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

/** Reports each of `keys` of `args` that is set, known, and not a boolean. */
export function checkBooleans(args: object, keys: readonly string[], problems: string[]) {
  for (const k of keys) {
    const v = (args as Record<string, unknown>)[k];
    if (v !== undefined && !isOutputOrPromise(v) && typeof v !== "boolean")
      problems.push(`${k} must be true or false, not ${JSON.stringify(v)}`);
  }
}

export function checkLabels(
  what: string,
  labels: Record<string, Input<string>> | undefined,
  problems: string[],
) {
  if (labels === undefined || isOutputOrPromise(labels)) return;
  for (const [k, v] of Object.entries(labels)) {
    if (!QUALIFIED_NAME_RE.test(k)) problems.push(`${what}: "${k}" is not a valid label key`);
    if (!isOutputOrPromise(v) && (typeof v !== "string" || !LABEL_VALUE_RE.test(v)))
      problems.push(`${what}: value of "${k}" is not a valid label value`);
  }
}

export function checkAnnotations(
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
