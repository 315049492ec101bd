/**
 * Which requests go through a proxy, as Go's net/http (and so skopeo)
 * decides from HTTPS_PROXY, HTTP_PROXY and NO_PROXY.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { noProxyMatches, proxyFor } from "../../src/mirror/proxy";

test("proxyFor: the scheme's variable, upper case first; loopback and NO_PROXY go direct", () => {
  const env = {
    HTTPS_PROXY: "http://proxy.corp:3128",
    https_proxy: "http://ignored:1",
    http_proxy: "plain.corp:8080",
    NO_PROXY: ".internal,registry.local:5000,10.0.0.0/8",
  };
  const cases: { url: string; want: string | undefined }[] = [
    { url: "https://quay.io/v2/", want: "http://proxy.corp:3128/" },
    { url: "http://quay.io/v2/", want: "http://plain.corp:8080/" },
    { url: "https://127.0.0.1:5000/v2/", want: undefined },
    { url: "https://localhost:5000/v2/", want: undefined },
    { url: "https://[::1]:5000/v2/", want: undefined },
    { url: "https://reg.internal/v2/", want: undefined },
    { url: "https://internal/v2/", want: "http://proxy.corp:3128/" },
    { url: "https://registry.local:5000/v2/", want: undefined },
    { url: "https://registry.local/v2/", want: "http://proxy.corp:3128/" },
    { url: "https://10.1.2.3/v2/", want: undefined },
    { url: "https://11.1.2.3/v2/", want: "http://proxy.corp:3128/" },
  ];
  for (const c of cases) assert.equal(proxyFor(new URL(c.url), env)?.href, c.want, c.url);
  assert.equal(proxyFor(new URL("https://quay.io/"), {}), undefined);
  assert.equal(
    proxyFor(new URL("http://quay.io/"), { HTTP_PROXY: "http://p:1", REQUEST_METHOD: "GET" }),
    undefined,
  );
});

test("NO_PROXY entries: *, domains with and without a leading dot, ports, IPs and CIDR prefixes", () => {
  const cases: { noProxy: string; host: string; port: string; want: boolean }[] = [
    { noProxy: "*", host: "anything", port: "443", want: true },
    { noProxy: "foo.com", host: "foo.com", port: "443", want: true },
    { noProxy: "foo.com", host: "bar.foo.com", port: "443", want: true },
    { noProxy: "foo.com", host: "barfoo.com", port: "443", want: false },
    { noProxy: ".y.com", host: "x.y.com", port: "443", want: true },
    { noProxy: ".y.com", host: "y.com", port: "443", want: false },
    { noProxy: "*.y.com", host: "x.y.com", port: "443", want: true },
    { noProxy: "foo.com:80", host: "foo.com", port: "443", want: false },
    { noProxy: "foo.com:443", host: "foo.com", port: "443", want: true },
    { noProxy: "1.2.3.4", host: "1.2.3.4", port: "443", want: true },
    { noProxy: "1.2.3.4", host: "1.2.3.5", port: "443", want: false },
    { noProxy: "192.168.0.0/16", host: "192.168.7.1", port: "443", want: true },
    { noProxy: "fd00::/8", host: "[fd12::1]", port: "443", want: true },
    { noProxy: " , FOO.com ", host: "Foo.COM", port: "443", want: true },
  ];
  for (const c of cases)
    assert.equal(noProxyMatches(c.noProxy, c.host, c.port), c.want, `${c.noProxy} ~ ${c.host}:${c.port}`);
});
