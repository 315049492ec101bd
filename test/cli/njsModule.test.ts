/**
 * Finding the njs module's absolute path for `load_module` (src/cli/njsModule.ts):
 * what `nginx -V` says of its modules directory, and the packages' places.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { describe, test } from "node:test";
import { findNjsModule, modulesDirOf, njsModuleCandidates } from "../../src/cli/njsModule";
import { which } from "../support/tools";

const DEBIAN_V = `nginx version: nginx/1.22.1
built with OpenSSL 3.0.11 19 Sep 2023
TLS SNI support enabled
configure arguments: --with-cc-opt='-g -O2 -ffile-prefix-map=/build/nginx-1.22.1=.' --prefix=/usr/share/nginx --conf-path=/etc/nginx/nginx.conf --modules-path=/usr/lib/nginx/modules --with-http_ssl_module`;

describe("njs module path", () => {
  test("modulesDirOf: --modules-path, else --prefix/modules, else nothing", () => {
    const cases: { name: string; v: string; want: string | undefined }[] = [
      { name: "Debian", v: DEBIAN_V, want: "/usr/lib/nginx/modules" },
      {
        name: "nginx.org image",
        v: "configure arguments: --prefix=/etc/nginx --sbin-path=/usr/sbin/nginx --modules-path=/usr/lib/nginx/modules",
        want: "/usr/lib/nginx/modules",
      },
      {
        name: "Fedora",
        v: "configure arguments: --prefix=/usr/share/nginx --modules-path=/usr/lib64/nginx/modules/",
        want: "/usr/lib64/nginx/modules",
      },
      {
        name: "source build: prefix only",
        v: "configure arguments: --prefix=/opt/nginx",
        want: "/opt/nginx/modules",
      },
      {
        name: "-ffile-prefix-map is not --prefix",
        v: "configure arguments: --with-cc-opt='-ffile-prefix-map=/b=.'",
        want: undefined,
      },
      { name: "no configure arguments", v: "nginx version: nginx/1.25.0", want: undefined },
    ];
    for (const c of cases) assert.equal(modulesDirOf(c.v), c.want, c.name);
  });

  test("njsModuleCandidates: nginx's own directory first, then the packages', absolute, once each", () => {
    assert.deepEqual(njsModuleCandidates(DEBIAN_V), [
      "/usr/lib/nginx/modules/ngx_http_js_module.so",
      "/usr/lib64/nginx/modules/ngx_http_js_module.so",
      "/usr/local/nginx/modules/ngx_http_js_module.so",
    ]);
    assert.deepEqual(
      njsModuleCandidates("configure arguments: --prefix=/opt/nginx")[0],
      "/opt/nginx/modules/ngx_http_js_module.so",
    );
    assert.equal(njsModuleCandidates(undefined)[0], "/usr/lib/nginx/modules/ngx_http_js_module.so");
    assert.ok(njsModuleCandidates("configure arguments: --prefix=relative").every((p) => p.startsWith("/")));
  });

  test("findNjsModule: the file on this machine when there is one, else the likeliest place", () => {
    const nginx = which("nginx");
    const got = findNjsModule(nginx);
    assert.ok(got.path.startsWith("/") && got.path.endsWith("/ngx_http_js_module.so"), got.path);
    assert.equal(got.found, fs.existsSync(got.path));
    const missing = findNjsModule("/nonexistent/nginx");
    assert.equal(missing.path.endsWith("/ngx_http_js_module.so"), true);
  });
});
