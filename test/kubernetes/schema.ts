/**
 * Offline validation of Kubernetes objects against the API's OpenAPI schema,
 * with the schemas shipped by the `kubernetes-models` package (Kubernetes
 * 1.27 API, compiled to ajv validators).
 */

import * as path from "node:path";

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-require-imports */

/** `kubernetes-models` module for an apiVersion: `v1` → core, `apps/v1` → apps/v1, ... */
function modelModule(apiVersion: string): any {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  return require(group === "" ? `kubernetes-models/${version}` : `kubernetes-models/${group}/${version}`);
}

/**
 * Validates one object (with apiVersion and kind). Returns the schema errors,
 * empty when valid.
 */
export function schemaErrors(obj: any): string[] {
  if (typeof obj?.apiVersion !== "string" || typeof obj?.kind !== "string")
    return ["object has no apiVersion/kind"];
  let Model: any;
  try {
    Model = modelModule(obj.apiVersion)[obj.kind];
  } catch (e) {
    return [`no schema for ${obj.apiVersion} ${obj.kind}: ${(e as Error).message}`];
  }
  if (!Model) return [`no schema for ${obj.apiVersion} ${obj.kind}`];
  try {
    new Model(obj).validate();
    return [];
  } catch (e) {
    return [(e as Error).message];
  }
}

/**
 * The compiled schemas accept unknown fields (the API server would drop them,
 * or reject them under strict field validation), so a misspelt field such as
 * `readOnlyRootFileSystem` would pass `schemaErrors`. This second check
 * type-checks every object as an object literal of the package's TypeScript
 * interface for its kind, which reports any property the API does not have
 * (excess property checks) and any value of the wrong type.
 *
 * ConfigMap data values are replaced by "" first: their keys matter, their
 * megabytes do not.
 */
export function unknownFieldErrors(objs: any[]): string[] {
  const ts = require("typescript") as typeof import("typescript");
  const dir = path.resolve(__dirname, "..", "..", "..", "test", "kubernetes");
  const file = path.join(dir, "__schema_check__.ts");
  const lines: string[] = [];
  objs.forEach((o, i) => {
    const [group, version] = o.apiVersion.includes("/") ? o.apiVersion.split("/") : ["", o.apiVersion];
    const mod =
      group === ""
        ? `kubernetes-models/${version}/${o.kind}`
        : `kubernetes-models/${group}/${version}/${o.kind}`;
    const copy = structuredClone(o);
    if (copy.kind === "ConfigMap" && copy.data) for (const k of Object.keys(copy.data)) copy.data[k] = "";
    lines.push(`import type { I${o.kind} as T${i} } from ${JSON.stringify(mod)};`);
    lines.push(`// ${o.kind} ${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`);
    lines.push(`export const o${i}: T${i} = ${JSON.stringify(copy, null, 1)};`);
  });
  const source = lines.join("\n");
  const options = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    target: ts.ScriptTarget.ES2022,
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (f) => (path.resolve(f) === file ? source : readFile(f));
  host.fileExists = (f) => path.resolve(f) === file || fileExists(f);
  host.getSourceFile = (f, lang, ...rest) =>
    path.resolve(f) === file ? ts.createSourceFile(f, source, lang) : getSourceFile(f, lang, ...rest);
  const program = ts.createProgram({ rootNames: [file], options, host });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
    const ctx = where && d.file === program.getSourceFile(file) ? nearestComment(source, where.line) : "";
    return `${ctx}${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
  });
}

function nearestComment(source: string, line: number): string {
  const lines = source.split("\n");
  for (let i = line; i >= 0; i--) if (lines[i].startsWith("// ")) return `${lines[i].slice(3)}: `;
  return "";
}
