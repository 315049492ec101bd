/**
 * `--tls-cert FILE --tls-key FILE` (serve, generate --standalone): both or
 * neither, each a readable PEM file, the key the certificate's own. Checked
 * before anything is written or started, so a mistake is one clear error
 * naming the file instead of an nginx that fails at start (or, after a
 * reload, keeps serving the old certificate).
 */
import { X509Certificate, createPrivateKey, type KeyObject } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { TlsOptions } from "../nginx";
import { UsageError } from "./errors";

export interface TlsFlags {
  tlsCert?: string;
  tlsKey?: string;
}

function readPem(flag: string, file: string): Buffer {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw new UsageError(`${flag} ${file} is not a regular file`);
    return fs.readFileSync(file);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "does not exist"
        : code === "EACCES"
          ? `cannot be read by uid ${process.getuid?.() ?? "?"} (permission denied)`
          : `cannot be read: ${code ?? (e as Error).message}`;
    throw new UsageError(`${flag} ${file} ${why}`);
  }
}

/** The TLS files as absolute paths, or undefined without the flags. */
export function tlsFromFlags(flags: TlsFlags): TlsOptions | undefined {
  if (!flags.tlsCert && !flags.tlsKey) return undefined;
  if (!flags.tlsCert || !flags.tlsKey)
    throw new UsageError(
      `--tls-cert and --tls-key go together (got only ${flags.tlsCert ? "--tls-cert" : "--tls-key"})`,
    );
  const certificate = path.resolve(flags.tlsCert);
  const key = path.resolve(flags.tlsKey);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(readPem("--tls-cert", certificate));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`--tls-cert ${certificate} is not a PEM certificate: ${(e as Error).message}`);
  }
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey(readPem("--tls-key", key));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(
      `--tls-key ${key} is not an unencrypted PEM private key (nginx cannot ask for a passphrase): ${(e as Error).message}`,
    );
  }
  if (!cert.checkPrivateKey(keyObject))
    throw new UsageError(
      `--tls-key ${key} is not the private key of the certificate in --tls-cert ${certificate}`,
    );
  if (Date.parse(cert.validTo) < Date.now())
    process.stderr.write(`warning: the certificate in ${certificate} expired on ${cert.validTo}\n`);
  return { certificate, key };
}
