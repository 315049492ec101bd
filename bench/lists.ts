/**
 * The list endpoints on a repository of 10,000 tags: every answer of a table
 * of n × last checked against the spec's rule (src/nginx/lists.ts), then the
 * latency of the whole list, of a page from the middle and of the last page,
 * next to `GET /v2/` on the same server. Lists need no files: the
 * inventory is synthetic (test/nginx/synthetic.ts), rendered standalone.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { listPage, nextLink } from "../src/nginx/lists";
import { renderStandalone } from "../src/nginx";
import { syntheticInventory } from "../test/nginx/synthetic";
import { freePort } from "../test/support/tools";
import { load, type LoadOptions, type LoadResult } from "./lib/load";
import { memoryKiB, startPinned, waitFor200 } from "./lib/proc";
import { childPids } from "../test/support/procs";

export interface ListsResult {
  tags: number;
  configBytes: number;
  /** Requests of the n × last table, and those whose answer differed from the rule. */
  checked: number;
  wrong: string[];
  workerRssKiB: number;
  latency: Record<string, LoadResult>;
}

export async function runLists(
  work: string,
  o: { tags: number; load: Omit<LoadOptions, "connections" | "serverPids">; log: (m: string) => void },
): Promise<ListsResult> {
  const dir = path.join(work, "lists");
  const inv = syntheticInventory({ repos: 1, tagsPerRepo: o.tags, root: path.join(dir, "images") });
  const repo = inv.repositories[0];
  const tags = repo.tags.map((t) => t.name);
  const port = await freePort();
  const configDir = path.join(dir, "conf");
  const runtimeDir = path.join(dir, "run");
  fs.mkdirSync(configDir, { recursive: true });
  fs.mkdirSync(runtimeDir, { recursive: true });
  const rendered = renderStandalone(inv, {
    listen: `127.0.0.1:${port}`,
    runtimeDir,
    configDir,
    workerProcesses: 1,
    accessLog: false,
  });
  let configBytes = 0;
  for (const [name, text] of Object.entries(rendered.files)) {
    fs.writeFileSync(path.join(configDir, name), text);
    configBytes += Buffer.byteLength(text);
  }
  const t0 = performance.now();
  const proc = startPinned(
    "/usr/sbin/nginx",
    ["-c", path.join(configDir, rendered.main), "-p", runtimeDir, "-e", "stderr"],
    {
      logFile: path.join(dir, "nginx.log"),
    },
  );
  try {
    await waitFor200(port, "/v2/", t0, 30000, proc);
    const url = `/v2/${repo.name}/tags/list`;
    const mid = tags[tags.length >> 1];
    const lasts = [
      undefined,
      "",
      tags[0],
      mid,
      `${mid}-not-a-tag`,
      tags[tags.length - 2],
      tags[tags.length - 1],
      "~",
    ];
    const ns = [undefined, 0, 1, 2, 100, 1000, tags.length - 1, tags.length, tags.length + 1];
    const wrong: string[] = [];
    let checked = 0;
    for (const last of lasts) {
      for (const n of ns) {
        const q = [
          n === undefined ? "" : `n=${n}`,
          last === undefined ? "" : `last=${encodeURIComponent(last)}`,
        ]
          .filter((x) => x)
          .join("&");
        const target = q ? `${url}?${q}` : url;
        const res = await fetch(`http://127.0.0.1:${port}${target}`);
        const body = (await res.json()) as { tags: string[] };
        const want = listPage(tags, n, last);
        const link = want.next === undefined ? null : nextLink(url, n!, want.next);
        checked++;
        if (JSON.stringify(body.tags) !== JSON.stringify(want.entries) || res.headers.get("link") !== link)
          wrong.push(`${target}: ${body.tags.length} entries, Link ${res.headers.get("link")}`);
      }
    }
    o.log(`  lists: ${checked} answers checked at ${o.tags} tags, ${wrong.length} wrong`);
    const workers = childPids(proc.pid);
    const lo = { ...o.load, connections: 16, serverPids: workers };
    const latency: Record<string, LoadResult> = {
      "GET /v2/ (same server, no lookup: the floor)": await load({ port, method: "GET", path: "/v2/" }, lo),
      [`tags/list?n=100&last=<middle> (${o.tags} tags)`]: await load(
        { port, method: "GET", path: `${url}?n=100&last=${mid}` },
        lo,
      ),
      [`tags/list?n=10&last=<second to last> (${o.tags} tags)`]: await load(
        { port, method: "GET", path: `${url}?n=10&last=${tags[tags.length - 2]}` },
        lo,
      ),
      [`tags/list, the whole list (${o.tags} tags)`]: await load({ port, method: "GET", path: url }, lo),
    };
    return { tags: o.tags, configBytes, checked, wrong, workerRssKiB: memoryKiB(workers[0]).rss, latency };
  } finally {
    await proc.stop();
  }
}
