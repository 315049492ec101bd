/**
 * Runs the remote steps a component registered (under Pulumi's mocks) on
 * simulated nodes, the way @pulumi/command would: a `Command`'s `create` (or
 * `delete`) text is sent as the SSH command with its `environment` as env
 * requests, over the registered connection (host, port, user, private key);
 * a `CopyToRemote` copies its file, or for the images the directory that
 * `stageMissing` builds from the node's answer to the prepare step — the same
 * function the component calls — to `remotePath` (a directory lands at
 * `remotePath/<basename>`).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseHave, stageMissing, type DeliveryPlan } from "../../src/nodes/delivery";
import type { Registered } from "../kubernetes/mocks";
import type { TestContext } from "node:test";
import { nodeSimReady, type NodeSim } from "../support/nodeSim";
import { requireTool, run, runAny } from "../support/tools";
import { scratch } from "./harness";

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * The world a file's `before()` set up on simulated nodes, once this test may
 * use it: undefined (the test stops: skipped outside CI, failed in it) when
 * the node simulation or a tool its steps and pods use is missing; throws
 * the setup's error, or when the setup did not run.
 */
export function nodeWorld<W>(t: TestContext, world: W | undefined, setupError: unknown): W | undefined {
  if (!nodeSimReady(t)) return undefined;
  for (const tool of ["skopeo", "nginx", "curl", "setpriv", "iptables"])
    if (!requireTool(t, tool)) return undefined;
  if (setupError) throw setupError;
  if (!world) throw new Error("setup did not run");
  return world;
}

/** A fresh images dir holding copies of tag directories of `fromRoot`, each `from` at `to` (paths under each root). */
export function layoutImagesDir(fromRoot: string, layout: Record<string, string>, label: string): string {
  const root = path.join(scratch(label), "images");
  for (const [from, to] of Object.entries(layout)) {
    fs.mkdirSync(path.dirname(path.join(root, to)), { recursive: true });
    run("cp", ["-a", path.join(fromRoot, from), path.join(root, to)]);
  }
  return root;
}

/** The remote steps of `node` among `res`, in dependency order. */
export function remoteSteps(res: Registered[], component: string, node: string): Registered[] {
  const rank = (r: Registered) => STEP_KINDS.findIndex((k) => r.name === `${component}-${node}-${k}`);
  return res
    .filter((r) => r.type.startsWith("command:remote:") && r.name.startsWith(`${component}-${node}-`))
    .sort((a, b) => rank(a) - rank(b));
}

/** A secret's plain value as the mock received it (`{ <sig>: <secret sig>, value }`). */
export function unsecret(v: any): any {
  return v && typeof v === "object" && "value" in v && Object.keys(v).length === 2 ? v.value : v;
}

/** `v` with every secret the mock received replaced by its plain value (to check an object's shape). */
export function unsecretDeep(v: any): any {
  if (isSecretValue(v)) return unsecretDeep(v.value);
  if (Array.isArray(v)) return v.map(unsecretDeep);
  if (v && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unsecretDeep(x)]));
  return v;
}

/** Whether the mock received `v` as a secret. */
export function isSecretValue(v: any): boolean {
  return !!v && typeof v === "object" && Object.values(v).includes("1b47061264138c4ac30d75fd1eb44270");
}

/** Paths in `v` where `needle` occurs outside any secret. */
export function plainOccurrences(v: any, needle: string, at = "$"): string[] {
  if (typeof v === "string") return v.includes(needle) ? [at] : [];
  if (!v || typeof v !== "object" || isSecretValue(v)) return [];
  return Object.entries(v).flatMap(([k, x]) => plainOccurrences(x, needle, `${at}.${k}`));
}

export interface StepResult {
  step: string;
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export class StepRunner {
  constructor(
    private readonly sim: NodeSim,
    private readonly keyDir: string,
  ) {}

  private identity(conn: any): string {
    const file = path.join(this.keyDir, `key-${conn.host}`);
    fs.writeFileSync(file, conn.privateKey, { mode: 0o600 });
    return file;
  }

  /** Runs the Command's `create` (or `delete`) exactly as registered, its `stdin` (if any) on standard input. */
  command(r: Registered, which: "create" | "delete" = "create"): StepResult {
    const conn = unsecret(r.inputs.connection);
    // A script that carries a secret (the CA, a credential) is one: the engine sends its plain text.
    const text = unsecret(r.inputs[which]);
    if (typeof text !== "string") throw new Error(`${r.name} has no ${which} command`);
    const argv = this.sim.inLan([
      ...this.sim.sshArgv(conn, r.inputs.environment ?? {}, this.identity(conn)),
      text,
    ]);
    const t0 = Date.now();
    // The provider sends the step's stdin with each of its commands, delete too.
    const stdin = unsecret(r.inputs.stdin);
    const x = runAny(argv[0], argv.slice(1), typeof stdin === "string" ? { input: stdin } : {});
    return {
      step: `${r.name} ${which}`,
      status: x.status,
      stdout: x.stdout,
      stderr: x.stderr,
      ms: Date.now() - t0,
    };
  }

  /** Copies like CopyToRemote: `local` (a file, or a directory landing at remotePath/<basename>). */
  copy(r: Registered, local: string): StepResult {
    const conn = unsecret(r.inputs.connection);
    const argv = this.sim.inLan(this.sim.scpArgv(conn, local, r.inputs.remotePath, this.identity(conn)));
    const t0 = Date.now();
    const x = runAny(argv[0], argv.slice(1));
    return {
      step: `${r.name} copy`,
      status: x.status,
      stdout: x.stdout,
      stderr: x.stderr,
      ms: Date.now() - t0,
    };
  }

  /**
   * Runs every step of one node in order, as the engine would: a step whose
   * dependency failed (or was skipped) is skipped; the wiring depends on
   * nothing. The images copy is staged from the prepare step's stdout.
   */
  async node(steps: Registered[], plan: DeliveryPlan | undefined, stagingRoot: string, node: string) {
    const results: StepResult[] = [];
    const ok = new Set<string>();
    let prepared = "";
    const kindOf = (r: Registered) => STEP_KINDS.find((k) => r.name.endsWith(`-${k}`));
    const present = new Set(steps.map(kindOf));
    for (const r of steps) {
      const kind = kindOf(r);
      if (!kind) throw new Error(`unknown remote step ${r.name}`);
      if (!DEPENDS_ON[kind].every((d) => ok.has(d) || !present.has(d as (typeof STEP_KINDS)[number])))
        continue;
      let res: StepResult;
      if (r.type === "command:remote:Command") {
        res = this.command(r);
        if (kind === "prepare") prepared = res.stdout;
      } else if (kind === "images") {
        if (!plan) throw new Error("an images copy without a delivery plan");
        res = this.copy(r, stageMissing(plan, parseHave(prepared), stagingRoot, node).dir);
      } else {
        res = this.copy(r, await r.inputs.source.path);
      }
      results.push(res);
      if (res.status === 0) ok.add(kind);
    }
    return results;
  }
}

/**
 * The remote steps per node and what each depends on, as src/kubernetes/steps
 * registers them (nodes.ts, staticPod.ts, nodeWiring.ts); a dependency the
 * node was not given (no registry image) does not hold a step back.
 */
const STEP_KINDS = [
  "prepare",
  "images",
  "deliver",
  "registry-image",
  "import",
  "wire",
  "static-pod",
  "keep-wired",
] as const;
const DEPENDS_ON: Record<(typeof STEP_KINDS)[number], string[]> = {
  prepare: [],
  images: ["prepare"],
  deliver: ["images"],
  "registry-image": ["prepare"],
  import: ["registry-image"],
  wire: [],
  "static-pod": ["deliver", "import"],
  "keep-wired": ["wire", "deliver", "import"],
};
