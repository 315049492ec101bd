/**
 * The credentials skopeo would send to a registry, found as containers/image
 * 5.23 finds them (containers-auth.json(5)), so the mirror's own requests
 * (the referrers API) authenticate exactly like its copies.
 *
 * The files, in order, the first one with an entry winning:
 *   1. `$REGISTRY_AUTH_FILE` (skopeo's `--authfile` default; the mirror script
 *      sets it from the credentials it is given), else
 *      `$XDG_RUNTIME_DIR/containers/auth.json`, else
 *      `/run/containers/<uid>/auth.json`;
 *   2. `$XDG_CONFIG_HOME/containers/auth.json` (default `~/.config/…`);
 *   3. `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`;
 *   4. `~/.dockercfg` (the legacy format: the `auths` map alone).
 *
 * In a file, the key is looked up by the repository's name and then each
 * shorter namespace down to the host (`quay.io/org/app`, `quay.io/org`,
 * `quay.io`), then among keys written as URLs (`https://index.docker.io/v1/`),
 * Docker Hub's names counted as one. An entry holds `auth` (base64
 * `user:password`) and maybe `identitytoken` (an OAuth2 refresh token). A
 * `credHelpers` entry for the host names a `docker-credential-<helper>`
 * program, which is run as docker and containers/image run it.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface Credentials {
  username: string;
  password: string;
  /** An OAuth2 refresh token (`identitytoken`), used instead of the password at a token service. */
  identityToken?: string;
  /** Where they came from (for messages; never the secret). */
  from: string;
}

/** An auth file's parsed content. */
export interface AuthDocument {
  auths: Record<string, { auth?: string; identitytoken?: string }>;
  credHelpers: Record<string, string>;
}

export interface AuthFile {
  path: string;
  /** The legacy `.dockercfg` format: the `auths` map is the whole document. */
  legacy: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

/** The auth files in the order they are searched (see the header). */
export function authFilePaths(env: Env, home = os.homedir(), uid = process.getuid?.() ?? 0): AuthFile[] {
  const first = env.REGISTRY_AUTH_FILE
    ? env.REGISTRY_AUTH_FILE
    : env.XDG_RUNTIME_DIR
      ? path.join(env.XDG_RUNTIME_DIR, "containers", "auth.json")
      : `/run/containers/${uid}/auth.json`;
  return [
    { path: first, legacy: false },
    {
      path: path.join(env.XDG_CONFIG_HOME || path.join(home, ".config"), "containers", "auth.json"),
      legacy: false,
    },
    {
      path: env.DOCKER_CONFIG
        ? path.join(env.DOCKER_CONFIG, "config.json")
        : path.join(home, ".docker", "config.json"),
      legacy: false,
    },
    { path: path.join(home, ".dockercfg"), legacy: true },
  ];
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Parses an auth file's text; throws naming the file when it is not one. */
export function parseAuthDocument(text: string, file: AuthFile): AuthDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`auth file ${file.path} is not JSON: ${(e as Error).message}`);
  }
  if (!isObject(doc)) throw new Error(`auth file ${file.path} is not a JSON object`);
  const auths = file.legacy ? doc : (doc.auths ?? {});
  const helpers = file.legacy ? {} : (doc.credHelpers ?? {});
  if (!isObject(auths) || !isObject(helpers))
    throw new Error(`auth file ${file.path}: "auths" and "credHelpers" must be objects`);
  const out: AuthDocument = { auths: {}, credHelpers: {} };
  for (const [k, v] of Object.entries(auths))
    if (isObject(v))
      out.auths[k] = {
        ...(typeof v.auth === "string" ? { auth: v.auth } : {}),
        ...(typeof v.identitytoken === "string" ? { identitytoken: v.identitytoken } : {}),
      };
  for (const [k, v] of Object.entries(helpers)) if (typeof v === "string") out.credHelpers[k] = v;
  return out;
}

/** Docker Hub's several names, as one. */
function normalizeRegistry(host: string): string {
  return host === "registry-1.docker.io" || host === "docker.io" ? "index.docker.io" : host;
}

/** An auth file key written as a URL (`https://host/v1/`), or any key of a legacy file, as a host. */
function keyHost(key: string, legacy: boolean): string {
  const stripped = key.replace(/^https?:\/\//, "");
  return normalizeRegistry(legacy || stripped !== key ? stripped.split("/")[0] : stripped);
}

/** What an auth document says for `name` (`host[:port]/path`): an entry, a helper, or nothing. */
export type Lookup =
  | { kind: "entry"; key: string; auth?: string; identityToken?: string }
  | { kind: "helper"; helper: string; host: string }
  | { kind: "none" };

/** Looks `name` up in one document (see the header for the order). */
export function lookupAuth(doc: AuthDocument, name: string, legacy: boolean): Lookup {
  const host = name.split("/")[0];
  if (doc.credHelpers[host] !== undefined) return { kind: "helper", helper: doc.credHelpers[host], host };
  const keys: string[] = [];
  if (legacy) keys.push(host);
  else
    for (let k = name; ; k = k.slice(0, k.lastIndexOf("/"))) {
      keys.push(k);
      if (!k.includes("/")) break;
    }
  for (const k of keys) {
    const e = doc.auths[k];
    if (e) return { kind: "entry", key: k, auth: e.auth, identityToken: e.identitytoken };
  }
  const want = normalizeRegistry(host);
  for (const [k, e] of Object.entries(doc.auths))
    if (keyHost(k, legacy) === want)
      return { kind: "entry", key: k, auth: e.auth, identityToken: e.identitytoken };
  return { kind: "none" };
}

/**
 * `user:password` of an entry's `auth`; undefined for an entry without a
 * usable one (docker writes `{}` for hosts a helper serves), as
 * containers/image skips it.
 */
export function decodeAuth(auth: string | undefined): { username: string; password: string } | undefined {
  if (!auth) return undefined;
  const text = Buffer.from(auth, "base64").toString("utf8");
  const colon = text.indexOf(":");
  if (colon < 0) return undefined;
  return { username: text.slice(0, colon), password: text.slice(colon + 1).replace(/\0+$/, "") };
}

/** Runs `docker-credential-<helper> get` for `host`, as docker's credential helper protocol says. */
function fromHelper(helper: string, host: string): Credentials | undefined {
  const program = `docker-credential-${helper}`;
  const r = spawnSync(program, ["get"], { input: host, encoding: "utf8", timeout: 30_000 });
  if (r.error) throw new Error(`credential helper ${program} for ${host}: ${r.error.message}`);
  if (r.status !== 0) {
    if (/credentials not found/i.test(r.stdout + r.stderr)) return undefined;
    throw new Error(`credential helper ${program} for ${host}: ${(r.stderr || r.stdout).trim()}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(r.stdout);
  } catch {
    throw new Error(`credential helper ${program} for ${host} did not answer JSON`);
  }
  if (!isObject(doc) || typeof doc.Username !== "string" || typeof doc.Secret !== "string")
    throw new Error(`credential helper ${program} for ${host} answered no Username and Secret`);
  const from = `credential helper ${program}`;
  // docker's convention: an identity token is returned with the user "<token>".
  return doc.Username === "<token>"
    ? { username: "", password: "", identityToken: doc.Secret, from }
    : { username: doc.Username, password: doc.Secret, from };
}

/**
 * The credentials for `name` (`host[:port]/path`, where the request goes) in
 * the files of {@link authFilePaths}, or undefined. A file that exists but
 * cannot be read or parsed is an error naming it, as in containers/image.
 */
export function findCredentials(name: string, files: readonly AuthFile[]): Credentials | undefined {
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file.path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR")
        continue;
      throw new Error(`auth file ${file.path}: ${(e as Error).message}`);
    }
    const found = lookupAuth(parseAuthDocument(text, file), name, file.legacy);
    if (found.kind === "helper") {
      const c = fromHelper(found.helper, found.host);
      if (c) return c;
      continue;
    }
    if (found.kind === "none") continue;
    const up = decodeAuth(found.auth);
    if (!up && !found.identityToken) continue;
    return {
      username: up?.username ?? "",
      password: up?.password ?? "",
      ...(found.identityToken ? { identityToken: found.identityToken } : {}),
      from: `${file.path} (${found.key})`,
    };
  }
  return undefined;
}
