/**
 * Runs the top-level example program (index.ts) the way the Pulumi CLI's
 * Node.js host does for a TypeScript project — ts-node registered with the
 * project's tsconfig.json and the CommonJS loader, `main: index.ts` from
 * Pulumi.yaml — but under mocks and with stack config given on the command
 * line. Prints one JSON line: the program's exports and the resources it
 * registered.
 *
 * usage: node exampleProgram.js KEY=VALUE...   (config keys without the project prefix;
 *        a value starting with [ or { is JSON)
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, resourcesOf, settle, valueOf } from "./mocks";

const PROJECT = "static-container-registry-example";
const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");

async function main() {
  for (const kv of process.argv.slice(2)) {
    const i = kv.indexOf("=");
    pulumi.runtime.setConfig(`${PROJECT}:${kv.slice(0, i)}`, kv.slice(i + 1));
  }
  await installMocks(PROJECT);

  // What @pulumi/pulumi's cmd/run does for a TypeScript program (see its run.js).
  process.chdir(REPO_ROOT);
  /* eslint-disable @typescript-eslint/no-require-imports */
  const tsutils = require("@pulumi/pulumi/tsutils");
  const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
  const tsn = require(tsnodeRequire);
  tsn.register({
    compiler: typescriptRequire,
    project: "tsconfig.json",
    skipProject: false,
    compilerOptions: {
      target: "ES2020",
      module: "nodenext",
      moduleResolution: "nodenext",
      sourceMap: "true",
      ...tsutils.loadTypeScriptCompilerOptions("tsconfig.json"),
    },
  });
  const program = require(path.join(REPO_ROOT, "index.ts"));
  /* eslint-enable @typescript-eslint/no-require-imports */

  const exports: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(program)) {
    exports[k] = pulumi.Output.isInstance(v) ? await valueOf(v) : v;
  }
  await settle();
  process.stdout.write(
    JSON.stringify({
      exports,
      resources: resourcesOf("registry").map((r) => ({
        type: r.type,
        name: r.name,
        urn: r.urn,
        inputs: r.inputs,
      })),
    }) + "\n",
  );
}

main().catch((e) => {
  process.stderr.write(`${e?.stack ?? e}\n`);
  process.exit(2);
});
