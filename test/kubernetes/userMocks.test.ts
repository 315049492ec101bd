/**
 * The component in users' own unit tests: every mode × every kind of mocks
 * (see userMocksProgram.ts). Whatever the mocks, construction succeeds, every
 * output either resolves or stays cleanly unknown (never an error, never a
 * hang, never a made-up value such as "undefined.default.svc"), nothing is
 * rejected unhandled, the process exits 0, and no resource of a package other
 * than Kubernetes is registered (air-gapped users need no other provider plugin).
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { before, test } from "node:test";
import { run, tmpDir } from "../support/tools";
import { writeSyntheticTree } from "./synthetic";
import { OUTPUTS } from "./mocks";
import { MODES } from "./userMocksProgram";

/* eslint-disable @typescript-eslint/no-explicit-any */

let imagesDir: string;
before(() => {
  imagesDir = path.join(tmpDir("k8s-usermocks"), "images");
  writeSyntheticTree(imagesDir, { repos: 1, tagsPerRepo: 2 });
});

function runKind(kind: string): any {
  const r = run(process.execPath, [path.join(__dirname, "userMocksProgram.js"), kind, imagesDir]);
  return JSON.parse(r.stdout);
}

/** Modes whose node endpoint needs nothing from the cluster. */
const NODE_ENDPOINT_WITHOUT_CLUSTER = new Set(["nodePortFixed", "hostNetwork", "nodeEndpoint"]);
/** Modes whose Service has a fixed name. */
const FIXED_SERVICE_NAME = new Set(["bootstrap"]);

/** Which outputs stay unknown when the mocks echo the inputs back (no auto-names, no cluster IP, no node port). */
function expectedUnknown(mode: string): string[] {
  const unknown = new Set(["deploymentName", "configMapNames"]);
  if (!FIXED_SERVICE_NAME.has(mode)) ["serviceName", "endpoint"].forEach((k) => unknown.add(k));
  if (!NODE_ENDPOINT_WITHOUT_CLUSTER.has(mode))
    ["nodeEndpoint", "hostsToml", "registriesYaml"].forEach((k) => unknown.add(k));
  return OUTPUTS.filter((k) => unknown.has(k));
}

const matrix: Record<string, Record<string, string>> = {};

for (const kind of ["standard", "inputs", "preview"]) {
  test(`${kind} mocks: every mode constructs, every output resolves or stays unknown, exit 0`, () => {
    const r = runKind(kind);
    assert.deepEqual(r.unhandled, []);
    assert.equal(r.exitCode, 0);
    assert.deepEqual(Object.keys(r.outcomes), Object.keys(MODES));
    for (const [mode, outs] of Object.entries<Record<string, string>>(r.outcomes)) {
      const unknown = OUTPUTS.filter((k) => outs[k] !== "known");
      for (const k of unknown) assert.equal(outs[k], "unknown", `${kind} ${mode} ${k}`);
      assert.deepEqual(unknown, kind === "standard" ? [] : expectedUnknown(mode), `${kind} ${mode}`);
      for (const [k, v] of Object.entries(r.values[mode])) {
        assert.doesNotMatch(
          JSON.stringify(v ?? null),
          /undefined|\bnull\b/,
          `${kind} ${mode} ${k} = ${JSON.stringify(v)}`,
        );
      }
      matrix[mode] = {
        ...matrix[mode],
        [kind]: unknown.length === 0 ? "all known" : `unknown: ${unknown.join(" ")}`,
      };
    }
    if (kind !== "standard") {
      assert.ok(r.types.length > 0);
      for (const t of r.types)
        assert.match(
          t,
          /^(kubernetes:|static-container-registry:)/,
          `${t}: a resource needing another provider plugin`,
        );
    }
  });
}

test("NodePort without a fixed port: the node endpoint is the allocated port, never the container port", () => {
  const r = runKind("standard");
  const v = r.values.nodePortAllocated;
  assert.equal(typeof v.nodePort, "number");
  assert.notEqual(v.nodePort, 5000);
  assert.equal(v.nodeEndpoint, `127.0.0.1:${v.nodePort}`);
  assert.match(v.hostsToml, new RegExp(`"http://127\\.0\\.0\\.1:${v.nodePort}"`));
});

test("the matrix (mode × kind of mocks)", () => {
  assert.equal(Object.keys(matrix).length, Object.keys(MODES).length);
  for (const [mode, kinds] of Object.entries(matrix)) {
    process.stdout.write(
      `${mode.padEnd(21)} ${["standard", "inputs", "preview"].map((k) => `${k}: ${kinds[k]}`).join(" | ")}\n`,
    );
  }
});
