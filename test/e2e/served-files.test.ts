/**
 * Files that change under a running registry (`serve`): whatever happens on
 * disk, every answer is the inventory's bytes or a spec JSON error — never an
 * nginx HTML page or a redirect. (Deleted files answering JSON 404s is covered
 * with the other error answers; this is the case nginx would redirect.)
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { blob, configBlob, dig, hex, imageManifest, writeTagDir } from "../inventory/tree";
import { request, scratch, startRegistry, stopAll, tools } from "./harness";

after(stopAll);

describe("files changed while serving", () => {
  test("a blob or manifest that becomes a directory is a JSON 404, not a 301", async (t) => {
    if (!tools(t, "nginx")) return;
    const root = path.join(scratch("served-files"), "images");
    const cfg = configBlob();
    const l = blob("a layer that will become a directory");
    const m = imageManifest(cfg, [l]);
    const dir = writeTagDir(root, "app", "1", m, [cfg, l]);
    const reg = await startRegistry(root);
    // Before any request for them (nginx caches open files): swap each for a directory.
    for (const f of [hex(l.bytes), "manifest.json"]) {
      fs.rmSync(path.join(dir, f));
      fs.mkdirSync(path.join(dir, f));
    }
    const cases = [
      { description: "blob GET", method: "GET", url: `/v2/app/blobs/${dig(l.bytes)}`, code: "BLOB_UNKNOWN" },
      {
        description: "blob HEAD",
        method: "HEAD",
        url: `/v2/app/blobs/${dig(l.bytes)}`,
        code: "BLOB_UNKNOWN",
      },
      { description: "manifest by tag", method: "GET", url: "/v2/app/manifests/1", code: "MANIFEST_UNKNOWN" },
      {
        description: "manifest by digest",
        method: "GET",
        url: `/v2/app/manifests/${dig(m)}`,
        code: "MANIFEST_UNKNOWN",
      },
    ];
    for (const c of cases) {
      const res = await request(reg.port, c.method, c.url);
      assert.equal(res.status, 404, `${c.description}: ${res.status} ${res.headers.location ?? ""}`);
      assert.equal(res.headers.location, undefined, `${c.description}: no redirect`);
      assert.equal(res.headers["docker-distribution-api-version"], "registry/2.0");
      assert.match(String(res.headers["content-type"]), /^application\/json/, c.description);
      if (c.method === "GET")
        assert.equal(JSON.parse(res.body.toString()).errors[0].code, c.code, c.description);
    }
    // The untouched config blob is still served.
    const ok = await request(reg.port, "GET", `/v2/app/blobs/${dig(cfg.bytes)}`);
    assert.equal(ok.status, 200);
    assert.ok(ok.body.equals(cfg.bytes));
  });
});
