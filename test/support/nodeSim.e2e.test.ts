/**
 * The node simulation itself: two nodes reachable over SSH on their own
 * addresses, each with the stock sshd configuration (env requests other than
 * LANG/LC_* dropped), a private filesystem for what node steps write, and a
 * containerd on the default socket; teardown leaves no namespace behind.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { after, before, describe, test, type TestContext } from "node:test";
import { nodeSimReady, startNodes, type NodeSim } from "./nodeSim";
import { startServiceProxy } from "./serviceProxy";
import { inCI, requireTool, run, runAny, startProcess } from "./tools";

describe("node simulation", () => {
  let sim: NodeSim | undefined;
  let startError: unknown;
  before(async () => {
    if (process.getuid?.() !== 0 && !inCI) return;
    try {
      sim = await startNodes([{ disks: ["/var/lib/scr-disk"] }, { configPath: false }]);
    } catch (e) {
      startError = e;
    }
  });
  after(async () => {
    await sim?.stop();
  });
  const started = (t: TestContext): NodeSim | undefined => {
    if (!nodeSimReady(t)) return undefined;
    if (startError) throw startError;
    return sim!;
  };

  test("each node answers SSH on its own address with its own host key", (t) => {
    const s = started(t);
    if (!s) return;
    const seen = new Set<string>();
    for (const n of s.nodes) {
      const argv = s.inLan([...s.sshArgv(n), "hostname -I; cat /etc/ssh/ssh_host_ed25519_key.pub"]);
      const r = run(argv[0], argv.slice(1));
      assert.match(r.stdout, new RegExp(`^${n.host.replace(/\./g, "\\.")}\\b`));
      seen.add(r.stdout.split("\n")[1]);
    }
    assert.equal(seen.size, s.nodes.length, "host keys differ between nodes");
    // This machine's own namespace has no route to the LAN.
    assert.ok(
      !run("ip", ["-4", "addr"]).stdout.includes("10.77.0."),
      "no LAN address outside the namespaces",
    );
  });

  test("sshd has the stock AcceptEnv: LANG passes, anything else is dropped", (t) => {
    const s = started(t);
    if (!s) return;
    const argv = s.inLan([
      ...s.sshArgv(s.nodes[0], { LANG: "C.UTF-8", SCR_VALUE: "from-env" }),
      'echo "LANG=${LANG:-} SCR_VALUE=${SCR_VALUE:-unset}"',
    ]);
    assert.equal(run(argv[0], argv.slice(1)).stdout.trim(), "LANG=C.UTF-8 SCR_VALUE=unset");
  });

  test("writes under /etc/containerd, /var/lib and /etc/kubernetes stay on their node", (t) => {
    const s = started(t);
    if (!s) return;
    const [a, b] = s.nodes;
    const write = `mkdir -p /etc/containerd/certs.d/x /var/lib/scr-sim /etc/kubernetes/manifests
      echo ${a.name} > /etc/containerd/certs.d/x/hosts.toml
      echo ${a.name} > /var/lib/scr-sim/f
      echo ${a.name} > /etc/kubernetes/manifests/p.yaml`;
    const argv = s.inLan([...s.sshArgv(a), write]);
    run(argv[0], argv.slice(1));
    for (const f of [
      "/etc/containerd/certs.d/x/hosts.toml",
      "/var/lib/scr-sim/f",
      "/etc/kubernetes/manifests/p.yaml",
    ]) {
      assert.equal(fs.readFileSync(a.path(f), "utf8"), `${a.name}\n`);
      assert.equal(fs.existsSync(b.path(f)), false, `${f} is not on ${b.name}`);
      assert.equal(fs.existsSync(f), false, `${f} is not on this machine`);
    }
  });

  test("each node runs containerd on the default socket, with its CRI image service; config_path as configured", async (t) => {
    const s = started(t);
    if (!s) return;
    for (const n of s.nodes) {
      const argv = s.inLan([...s.sshArgv(n), "ctr version >/dev/null && ctr -n k8s.io images ls -q | wc -l"]);
      assert.equal(run(argv[0], argv.slice(1)).stdout.trim(), "0");
      assert.ok(fs.statSync(n.path("/run/containerd/containerd.sock")).isSocket());
      // The kubelet's way in: runtime.v1.ImageService on the same socket.
      assert.equal(await n.cri().status("registry.invalid/nothing:1"), undefined);
    }
    assert.match(fs.readFileSync(s.nodes[0].path("/etc/containerd/config.toml"), "utf8"), /config_path = /);
    assert.doesNotMatch(
      fs.readFileSync(s.nodes[1].path("/etc/containerd/config.toml"), "utf8"),
      /config_path/,
    );
  });

  test("a node's disk is a mount point of its own; the other node has none", (t) => {
    const s = started(t);
    if (!s) return;
    const [a, b] = s.nodes;
    assert.equal(a.exec(["mountpoint", "-q", "/var/lib/scr-disk"]).status, 0);
    assert.notEqual(
      a.exec(["stat", "-c", "%d", "/var/lib/scr-disk"]).stdout,
      a.exec(["stat", "-c", "%d", "/var/lib"]).stdout,
      "another filesystem than the node's /var/lib",
    );
    assert.notEqual(b.exec(["mountpoint", "-q", "/var/lib/scr-disk"]).status, 0);
  });

  test("a service proxy sends the cluster IP to ready endpoints only, and refuses at once without any", async (t) => {
    const s = started(t);
    if (!s || !requireTool(t, "busybox") || !requireTool(t, "curl")) return;
    const [a, b] = s.nodes;
    a.exec(["sh", "-c", "mkdir -p /run/www && echo from-a > /run/www/index.html"]);
    const httpd = startProcess("nsenter", [
      "-t",
      String(a.holderPid),
      "-m",
      "-n",
      "--",
      "busybox",
      "httpd",
      "-f",
      "-p",
      "8080",
      "-h",
      "/run/www",
    ]);
    const proxy = startServiceProxy(s.nodes, "10.96.0.10", 5000);
    try {
      const get = () => b.exec(["curl", "-s", "-m", "5", "http://10.96.0.10:5000/index.html"]);
      proxy.setReady([`${a.host}:8080`]);
      let r = get();
      for (let i = 0; i < 20 && r.stdout.trim() !== "from-a"; i++) {
        await new Promise((res) => setTimeout(res, 100));
        r = get();
      }
      assert.equal(r.stdout.trim(), "from-a");
      proxy.setReady([]);
      const t0 = Date.now();
      const refused = get();
      assert.equal(refused.status, 7, "connection refused");
      assert.ok(Date.now() - t0 < 2000, "at once");
    } finally {
      proxy.stop();
      await httpd.stop();
    }
  });

  test("teardown stops every process and deletes the namespaces", async (t) => {
    const s = started(t);
    if (!s) return;
    const pids = s.nodes.flatMap((n) => [n.holderPid, n.sshd.pid, n.containerd.pid]);
    await s.stop();
    sim = undefined;
    const alive = pids.filter((p) => runAny("kill", ["-0", String(p)]).status === 0);
    assert.deepEqual(alive, []);
    const left = run("ip", ["netns", "list"])
      .stdout.split("\n")
      .filter((l) => l.startsWith(`scr${process.pid}`));
    assert.deepEqual(left, []);
  });
});
