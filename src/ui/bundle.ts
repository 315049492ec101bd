/**
 * The page's script: our own modules as tsc compiles them (CommonJS), each
 * wrapped in a function that gives it `exports` and a `require` of the
 * others. So the browser runs the very code the node tests import, and
 * nothing needs installing or running to build it.
 *
 * A module is read as compiled beside this file (dist/, the package as
 * installed), or, where the program runs from the TypeScript sources (ts-node,
 * as Pulumi runs a TypeScript program or a source-based package), compiled
 * here with TypeScript's own transpiler and the project's options — the same
 * bytes tsc writes (a test compares the two).
 *
 * Only relative imports of our own modules are followed; anything else (a
 * package, `node:*`) is refused, naming the module, because the browser has
 * none of it. Type-only imports are gone from the compiled text already.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** The compiled text of module `id` (a path relative to `base`, without extension), source map comment left out. */
function compiled(base: string, id: string, from?: string): string {
  const js = path.join(base, `${id}.js`);
  const ts = path.join(base, `${id}.ts`);
  let text: string;
  if (fs.existsSync(js)) text = fs.readFileSync(js, "utf8");
  else if (fs.existsSync(ts)) text = transpile(fs.readFileSync(ts, "utf8"), ts);
  else
    throw new Error(
      `the page's script needs ${js}${from ? ` (required by ${from})` : ""}: run npm run build`,
    );
  return text.replace(/^\/\/# sourceMappingURL=.*$/m, "").trimEnd();
}

/** A TypeScript module compiled as tsconfig.json compiles it (CommonJS, ES2022, strict). */
export function transpile(source: string, fileName: string): string {
  let typescript: typeof import("typescript");
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    typescript = require("typescript") as typeof import("typescript");
  } catch {
    throw new Error(
      `the page's script is compiled from ${fileName}, which needs the typescript package (npm ci), ` +
        `or the compiled modules (npm run build)`,
    );
  }
  return typescript.transpileModule(source, {
    fileName,
    compilerOptions: {
      module: typescript.ModuleKind.CommonJS,
      target: typescript.ScriptTarget.ES2022,
      esModuleInterop: true,
      strict: true,
    },
  }).outputText;
}

/** What a compiled module needs: the modules it requires, found in tsc's output. */
const REQUIRE = /\brequire\("([^"]+)"\)/g;

/**
 * A script expression whose value is the exports of `entry` (a compiled
 * module's path without `.js`, relative to `base`), with every module it
 * requires inside. Module ids are paths relative to `base`.
 */
export function bundle(base: string, entry: string): string {
  const modules = new Map<string, { text: string; requires: Record<string, string> }>();
  const visit = (id: string, from?: string) => {
    if (modules.has(id)) return;
    const text = compiled(base, id, from);
    const requires: Record<string, string> = {};
    modules.set(id, { text, requires });
    for (const m of text.matchAll(REQUIRE)) {
      const spec = m[1];
      if (!spec.startsWith(".")) {
        throw new Error(
          `the page's script cannot use ${JSON.stringify(spec)} (required by ${id}): a browser has only our own modules`,
        );
      }
      const target = path.posix.join(path.posix.dirname(id), spec);
      requires[spec] = target;
      visit(target, id);
    }
  };
  visit(entry);
  const defs = [...modules].map(
    ([id, m]) =>
      `${JSON.stringify(id)}: [function (exports, require) {\n${m.text}\n}, ${JSON.stringify(m.requires)}]`,
  );
  const script = `(function () {
"use strict";
var modules = {
${defs.join(",\n")}
};
var loaded = {};
function load(id) {
    if (!(id in loaded)) {
        var m = modules[id];
        loaded[id] = {};
        m[0](loaded[id], function (spec) { return load(m[1][spec]); });
    }
    return loaded[id];
}
return load(${JSON.stringify(entry)});
})()`;
  // Inline in the page: the HTML parser would end the script at "</script".
  if (/<\/script|<!--/i.test(script)) throw new Error(`the page's script holds "</script" or "<!--"`);
  return script;
}
