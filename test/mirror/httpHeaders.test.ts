import assert from "node:assert/strict";
import { test } from "node:test";
import { nextLink, parseChallenges, parseLinks } from "../../src/mirror/httpHeaders";

test("WWW-Authenticate: the challenges registries send, each with its parameters", () => {
  const cases: {
    description: string;
    header: string | string[];
    want: ReturnType<typeof parseChallenges>;
  }[] = [
    {
      description: "distribution's bearer challenge",
      header:
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
      want: [
        {
          scheme: "bearer",
          params: {
            realm: "https://auth.docker.io/token",
            service: "registry.docker.io",
            scope: "repository:library/alpine:pull",
          },
        },
      ],
    },
    {
      description: "basic, scheme and names in any case, spaces around =",
      header: 'BASIC Realm = "Registry Realm"',
      want: [{ scheme: "basic", params: { realm: "Registry Realm" } }],
    },
    {
      description: "two challenges in one value",
      header: 'Basic realm="r", Bearer realm="https://t/token",service="s"',
      want: [
        { scheme: "basic", params: { realm: "r" } },
        { scheme: "bearer", params: { realm: "https://t/token", service: "s" } },
      ],
    },
    {
      description: "two header lines (as an array)",
      header: ['Bearer realm="https://t/token"', 'Basic realm="x"'],
      want: [
        { scheme: "bearer", params: { realm: "https://t/token" } },
        { scheme: "basic", params: { realm: "x" } },
      ],
    },
    {
      description: "a scope with several actions holds a comma inside quotes; escapes are undone",
      header:
        'Bearer realm="https://t/token",scope="repository:a/b:pull,push",error="insufficient_scope",x="a\\"b"',
      want: [
        {
          scheme: "bearer",
          params: {
            realm: "https://t/token",
            scope: "repository:a/b:pull,push",
            error: "insufficient_scope",
            x: 'a"b',
          },
        },
      ],
    },
    {
      description: "unquoted token values",
      header: "Bearer realm=https://t/token, service=reg",
      want: [{ scheme: "bearer", params: { realm: "https://t/token", service: "reg" } }],
    },
    {
      description: "a scheme without parameters, then another",
      header: 'Negotiate, Basic realm="r"',
      want: [
        { scheme: "negotiate", params: {} },
        { scheme: "basic", params: { realm: "r" } },
      ],
    },
    {
      description: "token68 credentials form",
      header: "Negotiate YIIGhgYJKoZIhvcSAQICAQBuggZ1MIIGcaADAgEFoQMCAQ6iBwMFACAAAACjggS==",
      want: [
        {
          scheme: "negotiate",
          params: { "": "YIIGhgYJKoZIhvcSAQICAQBuggZ1MIIGcaADAgEFoQMCAQ6iBwMFACAAAACjggS==" },
        },
      ],
    },
    { description: "empty", header: "", want: [] },
    {
      description: "an unterminated quote loses only that parameter",
      header: 'Bearer realm="https://t/token",service="s',
      want: [{ scheme: "bearer", params: { realm: "https://t/token" } }],
    },
  ];
  for (const c of cases) assert.deepEqual(parseChallenges(c.header), c.want, c.description);
  assert.deepEqual(parseChallenges(undefined), []);
});

test("Link: the next page, relative or absolute, among other links", () => {
  const base = "https://reg.example/v2/app/referrers/sha256:ab?n=2";
  const cases: { description: string; header: string | undefined; want: string | undefined }[] = [
    {
      description: "distribution's relative form",
      header: '</v2/app/referrers/sha256:ab?n=2&last=sha256:cd>; rel="next"',
      want: "https://reg.example/v2/app/referrers/sha256:ab?n=2&last=sha256:cd",
    },
    {
      description: "absolute, unquoted rel, other parameters",
      header: '<https://reg.example/v2/app/referrers/sha256:ab?page=2>; type="application/json"; rel=next',
      want: "https://reg.example/v2/app/referrers/sha256:ab?page=2",
    },
    {
      description: "several links; rel with several types",
      header: '</first>; rel="first", </p3>; rel="next last"',
      want: "https://reg.example/p3",
    },
    { description: "no next", header: '</prev>; rel="prev"', want: undefined },
    { description: "no header", header: undefined, want: undefined },
    { description: "garbage", header: "not a link", want: undefined },
  ];
  for (const c of cases) assert.equal(nextLink(c.header, base)?.href, c.want, c.description);
  assert.deepEqual(parseLinks('<a>; rel="Next"; title="x;y"'), [
    { target: "a", rel: ["next"], params: { rel: "Next", title: "x;y" } },
  ]);
});
