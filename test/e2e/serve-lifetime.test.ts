/**
 * `serve` never outlives its parent and never leaves an nginx behind, however
 * it is stopped. Each case starts the real bin under a wrapper shell (what
 * `npx` is: a parent that exits on SIGTERM without waiting for its child), in
 * a process group of its own, stops it the way a supervisor, a terminal or an
 * OOM killer would, then checks by PID that every process seen at the start
 * is gone, that no process at all is left in the group, and that the port is
 * free again.
 *
 * SIGHUP to serve itself re-scans ROOT and reloads nginx (tested last).
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as net from "node:net";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { blob, configBlob, imageManifest, writeTagDir } from "../inventory/tree";
import { isAlive as alive, processGroup as group, waitGroupsGone, type Proc } from "../support/procs";
import { freePort } from "../support/tools";
import { CLI, request, scratch, stopAll, tools } from "./harness";

after(stopAll);

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

function tree(): string {
  const root = path.join(scratch("lifetime"), "images");
  const cfg = configBlob();
  const l = blob("lifetime layer");
  writeTagDir(root, "app", "1", imageManifest(cfg, [l]), [cfg, l]);
  return root;
}

interface Started {
  wrapper: ChildProcess;
  /** The wrapper's process group (it leads it): serve and nginx are started in it. */
  pgid: number;
  port: number;
  procs: Proc[];
  serve: Proc;
  nginxMaster: Proc;
  output: () => string;
}

/** `sh -c 'node BIN serve …; exit $?'` in a new process group, ready and listening. */
async function startWrapped(root: string): Promise<Started> {
  const port = await freePort();
  const cmd = `${process.execPath} ${CLI} serve ${root} --listen 127.0.0.1:${port}; exit $?`;
  const wrapper = spawn("sh", ["-c", cmd], { detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  wrapper.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  wrapper.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const pgid = wrapper.pid!;
  cleanups.push(() => {
    for (const p of group(pgid)) process.kill(p.pid, "SIGKILL"); // only if a test failed midway
  });
  const deadline = Date.now() + 30000;
  while (!/registry ready at/.test(out)) {
    if (wrapper.exitCode !== null) throw new Error(`serve exited before it was ready:\n${out}`);
    if (Date.now() > deadline) throw new Error(`serve not ready:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  // Listening comes from the master; its workers may still be starting.
  let procs = group(pgid);
  for (const until = Date.now() + 5000; Date.now() < until && procs.length < 4; procs = group(pgid))
    await new Promise((r) => setTimeout(r, 50));
  // The wrapper's one child is serve's node (its comm is "node", or "MainThread" on Node.js 24).
  const serve = procs.find((p) => p.ppid === pgid && p.comm !== "nginx");
  const nginxMaster = procs.find((p) => serve && p.ppid === serve.pid && p.comm === "nginx");
  assert.ok(serve && nginxMaster, `serve's node and nginx master in ${JSON.stringify(procs)}`);
  assert.ok(
    procs.some((p) => p.ppid === nginxMaster.pid),
    "nginx has workers",
  );
  return { wrapper, pgid, port, procs, serve, nginxMaster, output: () => out };
}

const cleanups: (() => void)[] = [];
after(() => {
  for (const c of cleanups) {
    try {
      c();
    } catch {
      /* already gone */
    }
  }
});

async function assertAllGone(s: Started, what: string) {
  const deadline = Date.now() + 20000;
  while (s.procs.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const left = s.procs.filter(alive);
  assert.deepEqual(
    left.map((p) => `${p.pid} ${p.comm}`),
    [],
    `${what}: processes left behind\n${s.output()}`,
  );
  // Also any started after the first look (a new worker, a reload's helper).
  const inGroup = await waitGroupsGone([s.pgid], Math.max(0, deadline - Date.now()));
  assert.deepEqual(
    inGroup.map((p) => `${p.pid} ${p.comm}`),
    [],
    `${what}: processes left in the process group\n${s.output()}`,
  );
  assert.ok(await portFree(s.port), `${what}: port ${s.port} is still held`);
}

describe("serve lifetime", () => {
  const cases: { description: string; stop: (s: Started) => void }[] = [
    {
      description: "the wrapper (npx) gets SIGTERM and exits: serve notices its parent is gone",
      stop: (s) => process.kill(s.wrapper.pid!, "SIGTERM"),
    },
    {
      description: "SIGTERM to the whole process group (a supervisor)",
      stop: (s) => process.kill(-s.wrapper.pid!, "SIGTERM"),
    },
    {
      description: "SIGINT to the whole process group (Ctrl-C)",
      stop: (s) => process.kill(-s.wrapper.pid!, "SIGINT"),
    },
    {
      description: "SIGHUP to the whole process group (the terminal closes)",
      stop: (s) => process.kill(-s.wrapper.pid!, "SIGHUP"),
    },
    {
      description: "SIGTERM to serve's node process only",
      stop: (s) => process.kill(s.serve.pid, "SIGTERM"),
    },
    {
      description: "SIGKILL to serve's node process (nginx gets its parent-death signal)",
      stop: (s) => process.kill(s.serve.pid, "SIGKILL"),
    },
    {
      description: "SIGTERM to the nginx master: serve exits with it",
      stop: (s) => process.kill(s.nginxMaster.pid, "SIGTERM"),
    },
  ];
  for (const c of cases) {
    test(c.description, async (t) => {
      if (!tools(t, "nginx")) return;
      // Without setpriv nothing can make nginx notice a SIGKILLed parent.
      if (/SIGKILL/.test(c.description) && !tools(t, "setpriv")) return;
      const s = await startWrapped(tree());
      const res = await request(s.port, "GET", "/v2/app/tags/list");
      assert.equal(res.status, 200);
      c.stop(s);
      await assertAllGone(s, c.description);
    });
  }

  test("SIGHUP to serve re-scans ROOT and reloads: a new tag is served, a broken tree keeps the old config", async (t) => {
    if (!tools(t, "nginx")) return;
    const root = tree();
    const s = await startWrapped(root);
    const tags = async () =>
      JSON.parse((await request(s.port, "GET", "/v2/app/tags/list")).body.toString()).tags;
    assert.deepEqual(await tags(), ["1"]);

    const cfg = configBlob();
    const l = blob("the new tag's layer");
    writeTagDir(root, "app", "2", imageManifest(cfg, [l]), [cfg, l]);
    process.kill(s.serve.pid, "SIGHUP");
    const deadline = Date.now() + 15000;
    while ((await tags()).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(await tags(), ["1", "2"]);
    assert.match(s.output(), /reloaded: 1 repositories, 2 tags/);
    assert.ok(alive(s.nginxMaster), "the same nginx master, reloaded");

    writeTagDir(root, "app", "3", Buffer.from("{broken"), []);
    process.kill(s.serve.pid, "SIGHUP");
    while (!/reload refused/.test(s.output()) && Date.now() < deadline + 15000)
      await new Promise((r) => setTimeout(r, 100));
    assert.match(
      s.output(),
      /reload refused, still serving the previous images: .* 1 problem\(s\):\n {2}app\/3\/manifest\.json: is not valid JSON/,
    );
    assert.deepEqual(await tags(), ["1", "2"]);

    process.kill(s.serve.pid, "SIGTERM");
    await assertAllGone(s, "after the reloads");
  });
});
