/**
 * A throwaway certificate authority for HTTPS tests, made with openssl: a CA,
 * and a server certificate it signed for 127.0.0.1 and localhost (and any
 * further IP addresses given). EC P-256 keys (fast to make). Clients trust it
 * through the CA file only.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { run } from "./tools";

export interface TestCa {
  dir: string;
  /** The CA certificate a trusting client is given. */
  caCert: string;
  /** The server's certificate chain and key (for --tls-cert / --tls-key). */
  serverCert: string;
  serverKey: string;
}

export function makeTestCa(dir: string, name = "scr-test", ips: readonly string[] = []): TestCa {
  fs.mkdirSync(dir, { recursive: true });
  const f = (n: string) => path.join(dir, n);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  run("openssl", [
    "req",
    "-x509",
    ...ec,
    "-keyout",
    f("ca.key"),
    "-out",
    f("ca.crt"),
    "-days",
    "2",
    "-subj",
    `/CN=${name} CA`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  run("openssl", [
    "req",
    ...ec,
    "-keyout",
    f("server.key"),
    "-out",
    f("server.csr"),
    "-subj",
    `/CN=${name} server`,
  ]);
  fs.writeFileSync(
    f("server.ext"),
    [
      `subjectAltName=${["IP:127.0.0.1", "DNS:localhost", ...ips.map((ip) => `IP:${ip}`)].join(",")}`,
      "basicConstraints=CA:FALSE",
      "keyUsage=critical,digitalSignature",
      "extendedKeyUsage=serverAuth",
      "",
    ].join("\n"),
  );
  run("openssl", [
    "x509",
    "-req",
    "-in",
    f("server.csr"),
    "-CA",
    f("ca.crt"),
    "-CAkey",
    f("ca.key"),
    "-CAcreateserial",
    "-out",
    f("server.crt"),
    "-days",
    "2",
    "-extfile",
    f("server.ext"),
  ]);
  return { dir, caCert: f("ca.crt"), serverCert: f("server.crt"), serverKey: f("server.key") };
}
