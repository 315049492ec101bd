/**
 * The shape of src/, checked from the code's own imports:
 * - no import circles (type-only imports count: a circle of types is as hard
 *   to read as one of values, and the compiler accepts both);
 * - `@pulumi/*` only under src/kubernetes: the core folders the CLI, the
 *   component and the tests share are plain TypeScript, and the CLI loads no
 *   Pulumi;
 * - each room stands on the ones below it: the core folders never import a
 *   shell, the CLI never the component, the component's arguments nothing
 *   else of the component, and the build steps never the component that runs
 *   them.
 *
 * Imports are read from the TypeScript compiler's syntax tree: `import`,
 * `import type`, `export … from`, `import x = require()`, `import()`,
 * `require()` and `import("…")` types alike.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import * as ts from "typescript";

const REPO_ROOT = path.resolve(__dirname, "..", "..");
const SRC = path.join(REPO_ROOT, "src");

/** The folders of plain TypeScript that both shells (the CLI and the component) stand on. */
const CORE_FOLDERS = [
  "src/inventory",
  "src/nginx",
  "src/mirror",
  "src/nodes",
  "src/provenance",
  "src/demo",
  "src/ui",
];

/** The only room that may import `@pulumi/*`. */
const PULUMI_SHELL = "src/kubernetes";

/** Which room may not import which (paths from the repository root; a folder covers everything under it). */
const LAYERS: { rooms: string[]; mayNotImport: string[]; except?: string[]; why: string }[] = [
  {
    rooms: CORE_FOLDERS,
    mayNotImport: ["src/kubernetes", "src/cli"],
    why: "the core folders stand below the shells",
  },
  {
    rooms: ["src/inventory", "src/nginx", "src/mirror", "src/nodes"],
    mayNotImport: ["src/provenance"],
    why: "provenance stands on the mirror and the inventory (what refers to an image is told to prune by its caller)",
  },
  {
    rooms: ["src/ui"],
    mayNotImport: ["src/nginx"],
    why: "the catalog page stands below the configs that serve it",
  },
  {
    rooms: ["src/cli"],
    mayNotImport: ["src/kubernetes"],
    why: "the CLI stands on the core folders only (it loads no Pulumi)",
  },
  {
    rooms: ["src/kubernetes/args"],
    mayNotImport: ["src/kubernetes"],
    except: ["src/kubernetes/args"],
    why: "the arguments are the ground the component's other rooms stand on",
  },
  {
    rooms: ["src/kubernetes/steps", "src/kubernetes/outputs.ts"],
    mayNotImport: ["src/kubernetes/component.ts", "src/kubernetes/index.ts"],
    why: "the component stands on its steps, not under them",
  },
];

/**
 * Every module a source text imports, as written, found by walking the
 * compiler's syntax tree (a token scan misreads regular expressions that
 * hold quotes, and then misses what follows).
 */
function importsOf(text: string, fileName = "file.ts"): string[] {
  const found: string[] = [];
  const literal = (node: ts.Node | undefined) => {
    if (node && ts.isStringLiteralLike(node)) found.push(node.text);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) literal(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference))
      literal(node.moduleReference.expression);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) literal(node.argument.literal);
    else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === "require"))
    )
      literal(node.arguments[0]);
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true));
  return found;
}

/** The file a relative import of `from` resolves to (`x.ts` or `x/index.ts`), if it exists. */
function resolveRelative(from: string, specifier: string): string | undefined {
  const base = path.resolve(path.dirname(from), specifier);
  return [`${base}.ts`, path.join(base, "index.ts")].find((f) => fs.existsSync(f));
}

function sourceFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory()
        ? sourceFiles(path.join(dir, e.name))
        : e.name.endsWith(".ts")
          ? [path.join(dir, e.name)]
          : [],
    )
    .sort();
}

const rel = (f: string) => path.relative(REPO_ROOT, f);
const within = (file: string, room: string) => file === room || file.startsWith(`${room}/`);

/** The import graph of src/ (files by their path from the repository root) and each file's package imports. */
function importGraph(): { edges: Map<string, string[]>; packages: Map<string, string[]> } {
  const edges = new Map<string, string[]>();
  const packages = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const specifiers = importsOf(fs.readFileSync(file, "utf8"), file);
    const local: string[] = [];
    for (const s of specifiers.filter((s) => s.startsWith("."))) {
      const target = resolveRelative(file, s);
      assert.ok(target, `${rel(file)} imports "${s}", which resolves to no .ts file`);
      local.push(rel(target));
    }
    edges.set(rel(file), [...new Set(local)]);
    packages.set(
      rel(file),
      specifiers.filter((s) => !s.startsWith(".")),
    );
  }
  return { edges, packages };
}

/**
 * One circle per knot of files that import each other (a strongly connected
 * component, by Tarjan): the knot's files, and one way round it in import
 * order, the first file repeated at the end.
 */
function findCycles(edges: Map<string, string[]>): { circle: string[]; knot: string[] }[] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const knots: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const knot: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        knot.push(w);
      } while (w !== v);
      if (knot.length > 1 || (edges.get(v) ?? []).includes(v)) knots.push(knot.sort());
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);
  return knots.map((knot) => ({ circle: circleThrough(edges, knot), knot }));
}

/** The shortest way from the knot's first file back to itself, through the knot. */
function circleThrough(edges: Map<string, string[]>, knot: string[]): string[] {
  const members = new Set(knot);
  const start = knot[0];
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of edges.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const circle = [v];
        while (circle[0] !== start) circle.unshift(previous.get(circle[0])!);
        return [...circle, start];
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  throw new Error(`internal: no way round the knot ${knot.join(", ")}`);
}

test("the import reader sees every kind of import", () => {
  const text = [
    `import type { A } from "./a";`,
    `import { type B } from "./b";`,
    `export { c } from "./c";`,
    `export * from "./d";`,
    `const e = await import("./e");`,
    `const f = require("./f");`,
    `type G = typeof import("./g");`,
    `import "./h";`,
    `import i = require("./i");`,
    // A regular expression holding a quote inside a template: a token scan loses the rest of the file.
    "const q = (s: string) => `'${s.replace(/[\\\\']/g, \"-\")}'`;",
    `const j = () => import("./j");`,
    "const script = `import x from './not-an-import'`;",
  ].join("\n");
  assert.deepEqual(importsOf(text), ["./a", "./b", "./c", "./d", "./e", "./f", "./g", "./h", "./i", "./j"]);
});

test("the circle finder names a circle, and only circles", () => {
  const g = new Map([
    ["a", ["b"]],
    ["b", ["c", "d"]],
    ["c", ["a"]],
    ["d", []],
    ["e", ["e"]],
  ]);
  assert.deepEqual(findCycles(g), [
    { circle: ["a", "b", "c", "a"], knot: ["a", "b", "c"] },
    { circle: ["e", "e"], knot: ["e"] },
  ]);
  const line = new Map([
    ["a", ["b"]],
    ["b", []],
  ]);
  assert.deepEqual(findCycles(line), []);
});

test("src/ has no import circle", () => {
  const { edges } = importGraph();
  // The reader must have read the house: most files import something.
  const importing = [...edges.values()].filter((e) => e.length > 0).length;
  assert.ok(importing > edges.size / 2, `only ${importing} of ${edges.size} files import anything`);
  const circles = findCycles(edges).map(
    ({ circle, knot }) =>
      circle.join(" → ") +
      (knot.length > circle.length - 1 ? ` (one way round a knot of ${knot.join(", ")})` : ""),
  );
  assert.deepEqual(circles, [], `import circles in src/:\n${circles.join("\n")}`);
});

test("@pulumi/* is imported only under src/kubernetes", () => {
  const { packages } = importGraph();
  const offenders: string[] = [];
  for (const [file, specifiers] of packages) {
    if (within(file, PULUMI_SHELL)) continue;
    for (const s of specifiers.filter((s) => s.startsWith("@pulumi/")))
      offenders.push(`${file} imports ${s}`);
  }
  assert.deepEqual(
    offenders,
    [],
    `Pulumi outside the shell (keep the pure builder where it is; register the resources under ${PULUMI_SHELL}):\n${offenders.join("\n")}`,
  );
  // The check would see one: the shell does import Pulumi.
  const shell = [...packages.values()].flat().filter((s) => s.startsWith("@pulumi/"));
  assert.ok(shell.length > 0, "no @pulumi/* import found anywhere: the reader is broken");
});

test("each room stands on the ones below it", () => {
  const { edges } = importGraph();
  const offenders: string[] = [];
  for (const [file, targets] of edges) {
    for (const layer of LAYERS.filter((l) => l.rooms.some((room) => within(file, room)))) {
      for (const target of targets) {
        if (!layer.mayNotImport.some((room) => within(target, room))) continue;
        if (layer.except?.some((room) => within(target, room))) continue;
        offenders.push(`${file} imports ${target}: ${layer.why}`);
      }
    }
  }
  assert.deepEqual(offenders, [], offenders.join("\n"));
  for (const layer of LAYERS)
    for (const room of layer.rooms)
      assert.ok(fs.existsSync(path.join(REPO_ROOT, room)), `${room} (in LAYERS) does not exist`);
});
