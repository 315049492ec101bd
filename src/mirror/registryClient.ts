/**
 * A small client of the distribution API for what the mirror asks a registry
 * itself (skopeo cannot: the referrers API), reaching it exactly where and as
 * skopeo's copies do:
 *
 * - where: registries.conf in effect (registriesConf.ts) — the location a
 *   prefix is rewritten to, the mirrors that apply (tried first, in order;
 *   the first that answers wins, as containers/image does), blocked entries;
 *   Docker Hub dialed as `registry-1.docker.io`;
 * - how: HTTPS with the system CAs plus the host's certs.d (certs.ts); for an
 *   `insecure` location, HTTPS without verification and then plain HTTP, the
 *   scheme decided once per host by a `GET /v2/` ping, as containers/image does;
 *   through the proxy of HTTPS_PROXY / HTTP_PROXY / NO_PROXY as Go decides it
 *   (proxy.ts);
 * - as whom: the credentials of the auth files (authFile.ts), looked up by
 *   where the request goes; the ping's challenge (or a later 401's) says how
 *   to use them: `Basic`, or `Bearer` — a token from the challenge's realm
 *   for `repository:<path>:pull` (GET with basic credentials when there are
 *   any; POST with `grant_type=refresh_token` for an identity token), cached
 *   per scope; a 401 with a new challenge is answered once more.
 *
 * Network failures, 429 and 5xx answers are retried `retries` times with
 * exponential back-off (skopeo's `--retry-times`). Every failure is an
 * UpstreamError whose message starts with the host it concerns.
 */
import { findCredentials, authFilePaths, type Credentials } from "./authFile";
import { tlsTrust, type TlsTrust } from "./certs";
import { parseChallenges, type Challenge } from "./httpHeaders";
import { httpRequest, TransportError, type HttpAnswer } from "./httpGet";
import { proxyFor } from "./proxy";
import { loadRegistriesConf, pullSources, type PullSource, type RegistriesConf } from "./registriesConf";

export interface ClientOptions {
  /** The registries.conf given to skopeo (`--registries-conf`), if any. */
  registriesConf?: string;
  /** Environment for auth files and CAs (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Retries of network failures, 429 and 5xx (default 3). */
  retries?: number;
  /** Connect and idle limit per request, ms (default 30 s). */
  timeoutMs?: number;
  /** First back-off delay, ms (default 1 s). */
  backoffMs?: number;
  /** For tests: the home directory, /etc/containers, and the certs.d directories. */
  home?: string;
  etc?: string;
  certDirs?: string[];
}

/** A failure talking to an upstream; the message starts with the host. */
export class UpstreamError extends Error {
  constructor(
    readonly host: string,
    message: string,
    /** True for a failure to get any answer (connection, TLS, timeout). */
    readonly unreachable = false,
  ) {
    super(`${host}: ${message}`);
    this.name = "UpstreamError";
  }
}

export interface Answer extends HttpAnswer {
  source: PullSource;
}

const DOCKER_HUB_HOST = "registry-1.docker.io";

/** Per host: the scheme found by the ping, its challenges, credentials and tokens. */
interface Session {
  base?: URL;
  challenges: Challenge[];
  trust: TlsTrust;
  /** By repository path (auth files may hold credentials per namespace); null: none found. */
  creds: Map<string, Credentials | null>;
  tokens: Map<string, string>;
  ping?: Promise<void>;
}

/** `CODE: message` of a registry's JSON error body, else its first line. */
function errorText(a: HttpAnswer): string {
  const text = a.body.toString("utf8");
  try {
    const doc = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    const e = doc.errors?.[0];
    if (e?.code) return `${a.status} ${e.code}${e.message ? `: ${e.message}` : ""}`;
  } catch {
    /* not JSON */
  }
  const line = text.trim().split("\n")[0]?.slice(0, 200);
  return line ? `${a.status} ${line}` : `${a.status}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class RegistryClient {
  private readonly sessions = new Map<string, Session>();
  private readonly env: Readonly<Record<string, string | undefined>>;
  private readonly retries: number;
  private readonly timeoutMs: number;
  private readonly backoffMs: number;

  constructor(
    readonly conf: RegistriesConf,
    private readonly o: ClientOptions = {},
  ) {
    this.env = o.env ?? process.env;
    this.retries = o.retries ?? 3;
    this.timeoutMs = o.timeoutMs ?? 30_000;
    this.backoffMs = o.backoffMs ?? 1000;
  }

  /** A client over the registries.conf skopeo would read (throws RegistriesConfError for a bad one). */
  static load(o: ClientOptions = {}): RegistryClient {
    return new RegistryClient(loadRegistriesConf({ file: o.registriesConf, home: o.home, etc: o.etc }), o);
  }

  /** Where a request about `name` (`host/path`) goes, in order (see registriesConf.ts). */
  sources(name: string, byDigest: boolean): PullSource[] {
    return pullSources(this.conf, name, byDigest);
  }

  /** How a source is named in messages: its host, and the reference's host when registries.conf moved it. */
  static label(source: PullSource, logicalHost: string): string {
    if (source.host === logicalHost) return source.host;
    return `${source.host} (${source.mirror ? "a mirror" : "the location"} of ${logicalHost} in registries.conf)`;
  }

  /**
   * `GET /v2/<path>/<rest>` at `source` (or `url`, a later page), with the
   * source's credentials; any HTTP status is returned for the caller to read.
   */
  async get(source: PullSource, rest: string, accept?: string, url?: URL): Promise<Answer> {
    const s = await this.session(source);
    const target = url ?? new URL(`v2/${source.path}/${rest}`, s.base);
    const scope = `repository:${source.path}:pull`;
    let auth = await this.authorization(source, s, scope);
    let a = await this.send(source, target, s, { ...(accept ? { accept } : {}), ...auth });
    if (a.status === 401) {
      // The ping may not have asked for credentials (or named another scope): answer this challenge.
      const fresh = parseChallenges(a.headers["www-authenticate"]);
      if (fresh.length) {
        s.challenges = fresh;
        const asked = fresh.find((c) => c.scheme === "bearer")?.params.scope ?? scope;
        s.tokens.delete(asked);
        auth = await this.authorization(source, s, asked);
        if (auth.authorization)
          a = await this.send(source, target, s, { ...(accept ? { accept } : {}), ...auth });
      }
    }
    if (a.status === 401 || a.status === 403) throw this.denied(source, s, a, `/v2/${source.path}/`);
    return { ...a, source };
  }

  private denied(source: PullSource, s: Session, a: HttpAnswer, what: string): UpstreamError {
    const creds = this.credentials(source, s);
    const who = creds
      ? `with the credentials from ${creds.from}`
      : `without credentials (none for ${source.host} in ${authFilePaths(this.env, this.o.home)
          .map((f) => f.path)
          .join(", ")})`;
    return new UpstreamError(source.host, `refused access to ${what} ${who}: ${errorText(a)}`);
  }

  private session(source: PullSource): Promise<Session> {
    const key = `${source.host} ${source.insecure}`;
    let s = this.sessions.get(key);
    if (!s) {
      const certHost = source.host;
      let trust: TlsTrust;
      try {
        trust = tlsTrust(certHost, { env: this.env, home: this.o.home, dirs: this.o.certDirs });
      } catch (e) {
        throw new UpstreamError(source.host, (e as Error).message);
      }
      s = { challenges: [], trust, tokens: new Map(), creds: new Map() };
      this.sessions.set(key, s);
    }
    const session = s;
    session.ping ??= this.ping(source, session);
    return session.ping.then(() => session);
  }

  /** `GET /v2/`: https, then (insecure only) http; 200 or 401 tells the scheme and the challenges. */
  private async ping(source: PullSource, s: Session): Promise<void> {
    const dial = source.host === "docker.io" ? DOCKER_HUB_HOST : source.host;
    const schemes = source.insecure ? ["https", "http"] : ["https"];
    const failures: string[] = [];
    for (const scheme of schemes) {
      const base = new URL(`${scheme}://${dial}/`);
      try {
        const a = await this.send(source, new URL("v2/", base), s, {});
        if (a.status !== 200 && a.status !== 401) {
          failures.push(`${scheme}: GET /v2/ answered ${errorText(a)}`);
          continue;
        }
        s.base = base;
        s.challenges = parseChallenges(a.headers["www-authenticate"]);
        return;
      } catch (e) {
        if (!(e instanceof UpstreamError) || !e.unreachable) throw e;
        failures.push(`${scheme}: ${e.message.slice(source.host.length + 2)}`);
      }
    }
    s.ping = undefined;
    throw new UpstreamError(source.host, `not reachable as a registry (${failures.join("; ")})`, true);
  }

  private credentials(source: PullSource, s: Session): Credentials | undefined {
    if (!s.creds.has(source.path)) {
      try {
        const found = findCredentials(`${source.host}/${source.path}`, authFilePaths(this.env, this.o.home));
        s.creds.set(source.path, found ?? null);
      } catch (e) {
        throw new UpstreamError(source.host, (e as Error).message);
      }
    }
    return s.creds.get(source.path) ?? undefined;
  }

  /** The Authorization header the challenges ask for (none when they ask for nothing usable). */
  private async authorization(
    source: PullSource,
    s: Session,
    scope: string,
  ): Promise<Record<string, string>> {
    const ch = s.challenges.find((c) => c.scheme === "basic" || c.scheme === "bearer");
    if (!ch) return {};
    const creds = this.credentials(source, s);
    if (ch.scheme === "basic") {
      if (!creds || !creds.username) return {};
      return {
        authorization: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`,
      };
    }
    let token = s.tokens.get(scope);
    if (!token) {
      token = await this.token(source, s, ch, scope, creds);
      s.tokens.set(scope, token);
    }
    return { authorization: `Bearer ${token}` };
  }

  /** A bearer token for `scope` from the challenge's realm. */
  private async token(
    source: PullSource,
    s: Session,
    ch: Challenge,
    scope: string,
    creds: Credentials | undefined,
  ): Promise<string> {
    const realm = ch.params.realm;
    if (!realm) throw new UpstreamError(source.host, "asks for a bearer token but names no realm");
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new UpstreamError(source.host, `names a token realm that is not a URL: ${JSON.stringify(realm)}`);
    }
    let a: HttpAnswer;
    if (creds?.identityToken) {
      const form = new URLSearchParams();
      if (ch.params.service) form.set("service", ch.params.service);
      form.set("scope", scope);
      form.set("grant_type", "refresh_token");
      form.set("refresh_token", creds.identityToken);
      form.set("client_id", "static-container-registry");
      a = await this.send(
        source,
        url,
        s,
        { "content-type": "application/x-www-form-urlencoded" },
        form.toString(),
      );
    } else {
      if (creds?.username) url.searchParams.set("account", creds.username);
      if (ch.params.service) url.searchParams.set("service", ch.params.service);
      url.searchParams.set("scope", scope);
      const headers: Record<string, string> = {};
      if (creds?.username && creds.password)
        headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
      a = await this.send(source, url, s, headers);
    }
    if (a.status !== 200) {
      const who = creds ? `the credentials from ${creds.from}` : "anonymous access (no credentials found)";
      throw new UpstreamError(
        source.host,
        `the token service ${url.origin}${url.pathname} refused ${who}: ${errorText(a)}`,
      );
    }
    let doc: { token?: unknown; access_token?: unknown };
    try {
      doc = JSON.parse(a.body.toString("utf8")) as typeof doc;
    } catch {
      throw new UpstreamError(
        source.host,
        `the token service ${url.origin}${url.pathname} did not answer JSON`,
      );
    }
    const token = typeof doc.token === "string" && doc.token ? doc.token : doc.access_token;
    if (typeof token !== "string" || !token)
      throw new UpstreamError(
        source.host,
        `the token service ${url.origin}${url.pathname} answered no token`,
      );
    return token;
  }

  /** One request with the session's TLS trust, retried on network failures, 429 and 5xx. */
  private async send(
    source: PullSource,
    url: URL,
    s: Pick<Session, "trust">,
    headers: Record<string, string>,
    body?: string,
  ): Promise<HttpAnswer> {
    for (let attempt = 0; ; attempt++) {
      let failure: string;
      let unreachable = false;
      try {
        const a = await httpRequest(url, {
          method: body === undefined ? "GET" : "POST",
          headers,
          body,
          ca: s.trust.ca,
          clientCert: s.trust.clientCerts[0],
          insecure: source.insecure,
          timeoutMs: this.timeoutMs,
          proxy: (u) => proxyFor(u, this.env),
        });
        if (a.status !== 429 && a.status < 500) return a;
        if (attempt >= this.retries) return a;
        failure = errorText(a);
      } catch (e) {
        if (!(e instanceof TransportError)) throw e;
        failure = e.message;
        unreachable = true;
        // A TLS handshake refused is not transient: say so at once (the ping then tries http when insecure).
        if (attempt >= this.retries || /SSL|TLS|certificate|self.signed|wrong version/i.test(e.message))
          throw new UpstreamError(source.host, `${url.protocol}//${url.host}: ${failure}`, unreachable);
      }
      void failure;
      await sleep(this.backoffMs * 2 ** attempt);
    }
  }
}
