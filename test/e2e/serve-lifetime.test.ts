/**
 * `serve` never outlives whoever started it and never leaves an nginx behind,
 * however it is stopped. Each case starts the real bin in a process group of
 * its own — under a wrapper shell (a parent that exits on SIGTERM without
 * waiting for its child), or as the README shows it, `npx
 * static-container-registry serve …` (npm's npx → `sh -c` → node) — stops it
 * the way a supervisor, a terminal or an OOM killer would, then checks by PID
 * that every process seen at the start is gone, that no process at all is
 * left in the group, and that the port is free again, within 5 s.
 *
 * Then `serve` tells the truth about starting: a busy port, an address this
 * machine does not have, an nginx that exits before it listens — one line,
 * exit status 1, never "ready".
 *
 * SIGHUP to serve itself re-scans ROOT and reloads nginx (tested last).
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { blob, configBlob, imageManifest, writeTagDir } from "../inventory/tree";
import { isAlive as alive, processGroup as group, waitGroupsGone, type Proc } from "../support/procs";
import { freePort } from "../support/tools";
import { CLI, REPO_ROOT, request, scratch, stopAll, tools } from "./harness";

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

/** How serve is started: under a plain wrapper shell, or by npx as the README shows it. */
type Launcher = "sh" | "npx";

/**
 * `sh -c 'node BIN serve …; exit $?'`, or `npx static-container-registry serve …`
 * run in the repository (its own package, a dependency of itself), in a new
 * process group, ready and listening.
 */
async function startWrapped(root: string, launcher: Launcher = "sh"): Promise<Started> {
  const port = await freePort();
  const wrapper =
    launcher === "sh"
      ? spawn("sh", ["-c", `${process.execPath} ${CLI} serve ${root} --listen 127.0.0.1:${port}; exit $?`], {
          detached: true,
          stdio: ["ignore", "pipe", "pipe"],
        })
      : spawn("npx", ["static-container-registry", "serve", root, "--listen", `127.0.0.1:${port}`], {
          cwd: REPO_ROOT,
          detached: true,
          stdio: ["ignore", "pipe", "pipe"],
        });
  let out = "";
  wrapper.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  wrapper.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const pgid = wrapper.pid!;
  cleanups.push(() => {
    for (const p of group(pgid)) process.kill(p.pid, "SIGKILL"); // only if a test failed midway
  });
  // The first npx run in a checkout links the package into npm's cache and builds it.
  const deadline = Date.now() + 120000;
  while (!/registry ready at/.test(out)) {
    if (wrapper.exitCode !== null) throw new Error(`serve exited before it was ready:\n${out}`);
    if (Date.now() > deadline) throw new Error(`serve not ready:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  // Listening comes from the master; its workers may still be starting.
  let procs = group(pgid);
  for (const until = Date.now() + 5000; Date.now() < until && procs.length < 4; procs = group(pgid))
    await new Promise((r) => setTimeout(r, 50));
  // The nginx master is the nginx whose parent is not nginx; serve is that parent (its comm is
  // "node", or "MainThread" on Node.js 24).
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const nginxMaster = procs.find((p) => p.comm === "nginx" && byPid.get(p.ppid)?.comm !== "nginx");
  const serve = nginxMaster && byPid.get(nginxMaster.ppid);
  assert.ok(serve && nginxMaster, `serve's node and nginx master in ${JSON.stringify(procs)}`);
  assert.ok(
    procs.some((p) => p.ppid === nginxMaster.pid),
    "nginx has workers",
  );
  if (launcher === "npx")
    assert.notEqual(serve.ppid, pgid, "npx runs serve through a wrapper of its own (sh -c)");
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
  const deadline = Date.now() + 5000;
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
  const cases: { description: string; launcher?: Launcher; stop: (s: Started) => void }[] = [
    {
      description: "npx gets SIGKILL: the sh between stays, serve notices its starter is gone",
      launcher: "npx",
      stop: (s) => process.kill(s.wrapper.pid!, "SIGKILL"),
    },
    {
      description: "npx gets SIGTERM",
      launcher: "npx",
      stop: (s) => process.kill(s.wrapper.pid!, "SIGTERM"),
    },
    {
      description: "serve started by npx gets SIGTERM",
      launcher: "npx",
      stop: (s) => process.kill(s.serve.pid, "SIGTERM"),
    },
    {
      description: "serve started by npx gets SIGKILL (nginx gets its parent-death signal)",
      launcher: "npx",
      stop: (s) => process.kill(s.serve.pid, "SIGKILL"),
    },
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
      if (c.launcher === "npx" && !tools(t, "npx")) return;
      const s = await startWrapped(tree(), c.launcher);
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
describe("serve tells the truth about starting", () => {
  /** Runs serve to its end (at most 2 s): its status, its output, how long it took. */
  async function serveUntilExit(args: string[]) {
    const t0 = Date.now();
    const p = spawn(process.execPath, [CLI, "serve", tree(), ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => p.kill("SIGKILL"), 2000);
    const [code, signal] = await new Promise<[number | null, string | null]>((r) =>
      p.once("exit", (c, s) => r([c, s])),
    );
    clearTimeout(timer);
    return { code, signal, out, ms: Date.now() - t0 };
  }

  test("a port another process holds: one line naming it, exit 1, never ready, nothing started", async (t) => {
    if (!tools(t, "nginx")) return;
    const other = net.createServer((c) => c.end("HTTP/1.0 200 OK\r\n\r\n"));
    await new Promise<void>((r) => other.listen(0, "127.0.0.1", r));
    const port = (other.address() as net.AddressInfo).port;
    try {
      const r = await serveUntilExit(["--listen", `127.0.0.1:${port}`]);
      assert.equal(r.signal, null, `serve did not exit within 2 s:\n${r.out}`);
      assert.equal(r.code, 1, r.out);
      assert.equal(
        r.out,
        `static-container-registry: cannot listen on 127.0.0.1:${port}: the port is in use by another process\n`,
      );
    } finally {
      other.close();
    }
  });

  for (const listen of ["192.0.2.1", "[2001:db8::1]"]) {
    test(`an address this machine does not have (${listen}): one line, exit 1, never ready`, async (t) => {
      if (!tools(t, "nginx")) return;
      const at = `${listen}:${await freePort()}`;
      const r = await serveUntilExit(["--listen", at]);
      assert.equal(r.signal, null, `serve did not exit within 2 s:\n${r.out}`);
      assert.equal(r.code, 1, r.out);
      assert.match(
        r.out,
        new RegExp(
          `^static-container-registry: cannot listen on ${at.replace(/[.[\]]/g, "\\$&")}: (this machine has no such address|this machine has no IPv6)\n$`,
        ),
      );
    });
  }

  test("an nginx that exits before it listens: serve ends with nginx's reason and its status", async () => {
    const fake = path.join(scratch("lifetime-fake-nginx"), "nginx");
    fs.writeFileSync(fake, "#!/bin/sh\necho 'nginx: [emerg] could not open error log file' >&2\nexit 3\n", {
      mode: 0o755,
    });
    const r = await serveUntilExit(["--listen", `127.0.0.1:${await freePort()}`, "--nginx", fake]);
    assert.equal(r.signal, null, `serve did not exit within 2 s:\n${r.out}`);
    assert.equal(r.code, 3, r.out);
    assert.doesNotMatch(r.out, /ready/);
    assert.match(
      r.out,
      /nginx: \[emerg\] could not open error log file\nnginx exited with status 3 before it was listening\n$/,
    );
  });
});
