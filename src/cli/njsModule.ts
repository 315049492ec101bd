/**
 * Where nginx's njs module (ngx_http_js_module.so) is, for the `load_module`
 * line of an nginx.conf of one's own. load_module resolves a relative path
 * against nginx's prefix (`-p`), not against nginx.conf, so the line is only
 * right when absolute. `nginx -V` names the modules directory
 * (`--modules-path=`, else `--prefix=`/modules); failing that, the places
 * packages put it.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export const NJS_MODULE_FILE = "ngx_http_js_module.so";

/**
 * Modules directories of the common packages: Debian and Ubuntu
 * (libnginx-mod-http-js) and the official nginx images and nginx.org
 * packages (nginx-module-njs) use the first; Fedora and RHEL the second;
 * nginx built from source the third.
 */
export const MODULE_DIRS = ["/usr/lib/nginx/modules", "/usr/lib64/nginx/modules", "/usr/local/nginx/modules"];

/** The modules directory `nginx -V` reports (it prints its configure arguments), if any. */
export function modulesDirOf(nginxV: string): string | undefined {
  const arg = (name: string) => new RegExp(`(?:^|\\s)--${name}=(\\S+)`).exec(nginxV)?.[1];
  const modules = arg("modules-path");
  if (modules) return modules.replace(/\/+$/, "");
  const prefix = arg("prefix");
  return prefix ? `${prefix.replace(/\/+$/, "")}/modules` : undefined;
}

/** Where to look for the module, most likely first, without repeats. */
export function njsModuleCandidates(nginxV?: string): string[] {
  const dirs = [nginxV === undefined ? undefined : modulesDirOf(nginxV), ...MODULE_DIRS];
  return [...new Set(dirs.filter((d): d is string => d !== undefined && d.startsWith("/")))].map((d) =>
    path.posix.join(d, NJS_MODULE_FILE),
  );
}

/**
 * The module's absolute path on this machine: `found` when the file is
 * there, else the likeliest place (the nginx here says, or Debian's).
 */
export function findNjsModule(nginx?: string): { path: string; found: boolean } {
  let version: string | undefined;
  if (nginx) {
    const r = spawnSync(nginx, ["-V"], { encoding: "utf8", timeout: 10_000 });
    if (r.status === 0) version = `${r.stdout}\n${r.stderr}`;
  }
  const candidates = njsModuleCandidates(version);
  const found = candidates.find((p) => fs.existsSync(p));
  return found ? { path: found, found: true } : { path: candidates[0], found: false };
}
