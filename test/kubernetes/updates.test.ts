/**
 * An images change as an update: the same stack planned with a tree and with
 * the tree after a new tag, under mocks (updateProgram.ts, one process each).
 * Only what may change does: the ConfigMaps' data (new immutable ConfigMaps)
 * and the pod template's content hash (a rolling update). The claim, the
 * volume, the Service, the Namespace, the PodDisruptionBudget and every
 * immutable field (selectors) stay exactly as they were, so Kubernetes never
 * has to refuse or the provider replace anything a running registry needs.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { test } from "node:test";
import { run, tmpDir } from "../support/tools";
import { writeSyntheticTree } from "./synthetic";

/* eslint-disable @typescript-eslint/no-explicit-any */

function plan(imagesDir: string): Map<string, any> {
  const r = run(process.execPath, [path.join(__dirname, "updateProgram.js"), imagesDir]);
  return new Map(JSON.parse(r.stdout).map((x: any) => [x.key, x.inputs]));
}

/** Paths (a.b.c) where two JSON values differ. */
function diff(a: any, b: any, at = ""): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  if (a && b && typeof a === "object" && typeof b === "object") {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((k) => diff(a[k], b[k], at === "" ? k : `${at}.${k}`));
  }
  return [at];
}

test("an images change: new ConfigMap data and a new pod-template hash, nothing else", () => {
  const root = path.join(tmpDir("k8s-update"), "images");
  writeSyntheticTree(root, { repos: 1, tagsPerRepo: 1 });
  const before = plan(root);
  writeSyntheticTree(root, { repos: 1, tagsPerRepo: 2 });
  const after = plan(root);

  assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort(), "the same objects");
  const changes: Record<string, string[]> = {};
  for (const [key, inputs] of before) {
    const d = diff(inputs, after.get(key));
    if (d.length > 0) changes[key] = d;
  }
  assert.deepEqual(Object.keys(changes).sort(), [
    "kubernetes:apps/v1:Deployment upd",
    "kubernetes:core/v1:ConfigMap upd-config-0",
  ]);
  assert.deepEqual(changes["kubernetes:apps/v1:Deployment upd"], [
    "spec.template.metadata.annotations.static-container-registry/content-hash",
  ]);
  // The ConfigMap changes only in its data (immutable: the provider replaces it by a new one).
  for (const p of changes["kubernetes:core/v1:ConfigMap upd-config-0"]) assert.match(p, /^data\./);
  for (const key of [
    "kubernetes:core/v1:PersistentVolume upd-images",
    "kubernetes:core/v1:PersistentVolumeClaim upd-images",
    "kubernetes:core/v1:Service upd",
    "kubernetes:core/v1:Namespace upd-ns",
    "kubernetes:policy/v1:PodDisruptionBudget upd",
  ])
    assert.ok(before.has(key) && !(key in changes), `${key} unchanged`);
  assert.equal(
    before.get("kubernetes:core/v1:PersistentVolumeClaim upd-images").spec.resources.requests.storage,
    "1Mi",
  );
});
