/**
 * Whole pulls by real clients, timed with hyperfine (client on the client core):
 * - `skopeo copy --all` of every fixture image, one after the other, into a
 *   dir: tree that is removed before each run;
 * - `ctr content fetch --all-platforms` of a multi-arch image into a private
 *   containerd whose content is removed (and garbage-collected) before each run.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { quietStart, stat } from "./lib/load";
import { CLIENT_CORE, sh, startPinned, type Proc } from "./lib/proc";
import type { Running } from "./servers";
import { writeContainerdConfig } from "../test/support/containerd";

export interface TimedCommand {
  name: string;
  command: string;
  /** Seconds. */
  mean: number;
  stddev: number;
  median: number;
  min: number;
  max: number;
  times: number[];
}

interface HyperfineJson {
  results: {
    command: string;
    mean: number;
    stddev: number;
    median: number;
    min: number;
    max: number;
    times: number[];
  }[];
}

/**
 * hyperfine, one round at a time: each round times every command once (the
 * order alternating between rounds), so that a burst of other work on this
 * shared machine hits all servers alike instead of one server's whole batch.
 * Each round starts when the machine is quiet (within the noise budget).
 */
async function hyperfine(
  work: string,
  label: string,
  commands: { name: string; command: string }[],
  opts: { runs: number; warmup: number; prepare: string },
): Promise<TimedCommand[]> {
  const times = new Map<string, number[]>(commands.map((c) => [c.name, []]));
  const json = path.join(work, `hyperfine-${label}.json`);
  for (let round = 0; round < opts.warmup + opts.runs; round++) {
    const order = round % 2 ? [...commands].reverse() : commands;
    await quietStart();
    const args = ["-c", CLIENT_CORE, "hyperfine", "--style", "none", "--runs", "1"];
    args.push("--prepare", opts.prepare, "--export-json", json);
    for (const c of order) args.push("-n", c.name, c.command);
    sh("taskset", args);
    if (round < opts.warmup) continue;
    const doc = JSON.parse(fs.readFileSync(json, "utf8")) as HyperfineJson;
    doc.results.forEach((r, i) => times.get(order[i].name)!.push(...r.times));
  }
  return commands.map((c) => {
    const t = times.get(c.name)!;
    const st = stat(t);
    const mean = t.reduce((a, b) => a + b, 0) / t.length;
    const stddev = Math.sqrt(t.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, t.length - 1));
    return {
      name: c.name,
      command: c.command,
      mean,
      stddev,
      median: st.median,
      min: st.min,
      max: st.max,
      times: t,
    };
  });
}

/** The fixture images that both servers serve to skopeo (anything else is listed as excluded). */
export function pullable(images: { repo: string; tag: string }[], servers: Running[]) {
  const ok: { repo: string; tag: string }[] = [];
  const excluded: { ref: string; why: string }[] = [];
  for (const img of images) {
    const ref = `${img.repo}:${img.tag}`;
    const failures = servers.flatMap((s) => {
      try {
        sh("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://127.0.0.1:${s.port}/${ref}`]);
        return [];
      } catch (e) {
        return [`${s.name}: ${(e as Error).message.split("\n").filter(Boolean).pop()}`];
      }
    });
    if (failures.length) excluded.push({ ref, why: failures.join("; ") });
    else ok.push(img);
  }
  return { ok, excluded };
}

export async function skopeoFullPull(
  work: string,
  images: { repo: string; tag: string }[],
  servers: Running[],
  runs: number,
): Promise<TimedCommand[]> {
  const dest = path.join(work, "pulled");
  const script = path.join(work, "pull-all.sh");
  fs.writeFileSync(
    script,
    [
      "#!/bin/sh",
      "# usage: pull-all.sh PORT — skopeo copy --all of every fixture image",
      "set -e",
      `mkdir -p ${dest}`,
      ...images.map(
        (img, i) =>
          `skopeo --insecure-policy copy --all --quiet --src-tls-verify=false docker://127.0.0.1:$1/${img.repo}:${img.tag} dir:${dest}/${i}`,
      ),
      "",
    ].join("\n"),
  );
  return hyperfine(
    work,
    "skopeo",
    servers.map((s) => ({ name: s.name, command: `sh ${script} ${s.port}` })),
    { runs, warmup: 1, prepare: `rm -rf ${dest}` },
  );
}

export interface Containerd {
  proc: Proc;
  socket: string;
  root: string;
}

/**
 * A private containerd (own root, state, sockets; CRI and the snapshotters
 * that need special filesystems disabled) whose garbage collector runs on
 * every deletion, so removed content really leaves the disk.
 */
export async function startContainerd(work: string): Promise<Containerd> {
  const dir = path.join(work, "containerd");
  const { config, socket } = writeContainerdConfig(dir, { eagerGc: true });
  const proc = startPinned("containerd", ["--config", config], {
    core: CLIENT_CORE,
    logFile: path.join(work, "containerd.log"),
  });
  const deadline = Date.now() + 20000;
  for (;;) {
    try {
      if (fs.existsSync(socket)) {
        sh("ctr", ["-a", socket, "version"]);
        break;
      }
    } catch {
      /* not answering yet */
    }
    if (proc.child.exitCode !== null || Date.now() > deadline)
      throw new Error(`containerd did not start (see ${proc.logFile})`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { proc, socket, root: path.join(dir, "root") };
}

/** hyperfine of `ctr content fetch --plain-http --all-platforms` against each server. */
export async function ctrFetch(
  work: string,
  cd: Containerd,
  ref: string,
  servers: Running[],
  runs: number,
): Promise<TimedCommand[]> {
  const blobs = path.join(cd.root, "io.containerd.content.v1.content", "blobs", "sha256");
  const clean = path.join(work, "ctr-clean.sh");
  fs.writeFileSync(
    clean,
    [
      "#!/bin/sh",
      "# Remove every image and blob from the bench namespace, then wait until GC has emptied the store.",
      `CTR="ctr -a ${cd.socket} -n bench"`,
      "$CTR images ls -q | xargs -r $CTR images rm >/dev/null",
      "$CTR content ls -q | xargs -r $CTR content rm >/dev/null",
      "i=0",
      `while [ -n "$(ls -A ${blobs} 2>/dev/null)" ]; do`,
      "  i=$((i+1)); [ $i -gt 500 ] && { echo 'content store not empty after GC' >&2; exit 1; }",
      "  sleep 0.01",
      "done",
      "",
    ].join("\n"),
  );
  return hyperfine(
    work,
    "ctr",
    servers.map((s) => ({
      name: s.name,
      command: `ctr -a ${cd.socket} -n bench content fetch --plain-http --all-platforms 127.0.0.1:${s.port}/${ref} >/dev/null`,
    })),
    { runs, warmup: 1, prepare: `sh ${clean}` },
  );
}
