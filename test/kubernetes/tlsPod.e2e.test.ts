/**
 * The component with `tls` on the pod simulation: the Deployment it registers
 * (its kubernetes.io/tls Secret laid out as the kubelet would, from a CA and
 * certificate the test makes with openssl) runs real nginx as the pod's user;
 * the probe speaks HTTPS; skopeo trusting the CA copies byte for byte and is
 * refused without it; plain HTTP gets a JSON 400; containerd pulls through
 * the component's own hosts.toml output (https:// and `ca = …`).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, test } from "node:test";
import { buildFixtures, request, runClientAny, scratch, startContainerd, stopAll } from "../e2e/harness";
import { assertSameImage, pullToDir } from "../support/skopeo";
import { makeTestCa } from "../support/tls";
import { freePort, runAny, type Server } from "../support/tools";
import { installMocks, one, resourcesOf, settle, valueOf } from "./mocks";
import { configMapsOf, layoutVolumes, podSimReady, startContainer } from "./podSim";

const UPSTREAM = "tls-pod.registry.invalid";
const running: Server[] = [];
after(async () => {
  for (const s of running) await s.stop();
  await stopAll();
});

test("component with tls: HTTPS-only pod, trusted clients pull, others are refused", async (t) => {
  if (!podSimReady(t, "nginx", "skopeo", "openssl", "curl", "containerd", "ctr")) return;
  const fx = await buildFixtures();
  const ca = makeTestCa(scratch("tls-pod-ca"));
  const certDir = scratch("tls-pod-certdir");
  fs.copyFileSync(ca.caCert, path.join(certDir, "ca.crt"));

  await installMocks();
  const kube = await import("../../src/kubernetes");
  const port = await freePort();
  const name = "tlspod";
  const reg = new kube.StaticContainerRegistry(name, {
    imagesDir: fx.root,
    hostPath: { path: fx.root, anyNode: true },
    hostNetwork: true,
    port,
    upstreamHost: UPSTREAM,
    // The "node" is this machine: the CA file is where the test made it.
    tls: { secretName: "registry-tls", caFile: ca.caCert },
  });
  const hostsToml = (await valueOf(reg.hostsToml)) as string;
  const nodeEndpoint = (await valueOf(reg.nodeEndpoint)) as string;
  await settle();
  const res = resourcesOf(name);
  const configMaps = configMapsOf(res);
  const secrets = new Map([
    [
      "registry-tls",
      { "tls.crt": fs.readFileSync(ca.serverCert, "utf8"), "tls.key": fs.readFileSync(ca.serverKey, "utf8") },
    ],
  ]);
  const pod = one(res, "kubernetes:apps/v1:Deployment", name).inputs.spec.template.spec;
  const work = scratch("tls-pod-sim");
  const layout = layoutVolumes(pod, configMaps, work, (p) => p, secrets);
  const c = pod.containers[0];
  const nginx = await startContainer(pod, c, layout, path.join(work, "run-nginx"), port);
  running.push(nginx);

  // The probe, as the kubelet sends it (HTTPS, certificate not verified).
  assert.equal(c.readinessProbe.httpGet.scheme, "HTTPS");
  const probe = runAny("curl", [
    "-sk",
    "-o",
    "/dev/null",
    "-w",
    "%{http_code}",
    `https://127.0.0.1:${port}/v2/`,
  ]);
  assert.equal(probe.stdout, "200", nginx.output());

  // Plain HTTP on the port: a JSON 400, no content.
  const img = fx.images.find((i) => i.reference === "busybox:1.36")!;
  const plain = await request(port, "GET", `/v2/${img.repo}/blobs/${img.blobs[0].digest}`);
  assert.equal(plain.status, 400);
  assert.equal(JSON.parse(plain.body.toString()).errors[0].code, "UNSUPPORTED");

  // skopeo trusting the CA: byte for byte; without it: refused.
  const dest = scratch("tls-pod-skopeo");
  pullToDir(nodeEndpoint, img.reference, dest, { certDir });
  assertSameImage(dest, img);
  const refused = runClientAny("skopeo", ["inspect", "--raw", `docker://${nodeEndpoint}/${img.reference}`]);
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /x509|certificate/);

  // containerd through the component's hosts.toml, verbatim.
  assert.match(hostsToml, new RegExp(`\\[host\\."https://127\\.0\\.0\\.1:${port}"\\]`));
  assert.ok(hostsToml.includes(`ca = ${JSON.stringify(ca.caCert)}`), hostsToml);
  const cd = await startContainerd();
  const hostsDir = scratch("tls-pod-hosts");
  fs.mkdirSync(path.join(hostsDir, UPSTREAM));
  fs.writeFileSync(path.join(hostsDir, UPSTREAM, "hosts.toml"), hostsToml);
  cd.ctr(["images", "pull", "--hosts-dir", hostsDir, `${UPSTREAM}/${img.reference}`], "tls-pod");
  assert.equal(
    cd.ctr(["content", "get", img.digest], "tls-pod").stdout,
    fs.readFileSync(img.manifestPath, "utf8"),
  );
});
