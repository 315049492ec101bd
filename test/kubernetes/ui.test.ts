/**
 * The component's catalog page (`ui`, default true) under Pulumi's mocks: the
 * page's file in the ConfigMaps the pod's config dir is projected from, the
 * nginx.conf location that serves it from that dir, the name prefix told to
 * the page; with `ui: false` neither, and the pods roll when it changes.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { before, describe, test } from "node:test";
import type * as pulumi from "@pulumi/pulumi";
import { installMocks, resourcesOf, settle, valueOf } from "./mocks";
import { writeSyntheticTree, type SyntheticTree } from "./synthetic";
import { tmpDir } from "../support/tools";

/* eslint-disable @typescript-eslint/no-explicit-any */

type Kube = typeof import("../../src/kubernetes");
let kube: Kube;
let tree: SyntheticTree;

const PAGE = "static-container-registry-ui.html";
const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";

before(async () => {
  await installMocks();
  kube = await import("../../src/kubernetes");
  tree = writeSyntheticTree(path.join(tmpDir("k8s-ui"), "images"), { repos: 2, tagsPerRepo: 2 });
});

/** Deploys under the mocks; the files of its ConfigMaps (their data merged, as the pod's projected volume sees them). */
async function configFiles(
  name: string,
  extra: Partial<import("../../src/kubernetes").StaticContainerRegistryArgs>,
): Promise<{ files: Record<string, string>; contentHash: string }> {
  const reg = new kube.StaticContainerRegistry(name, {
    imagesDir: tree.root,
    existingClaim: { claimName: "images" },
    ...extra,
  });
  const contentHash = await valueOf((reg as any).contentHash as pulumi.Output<string>);
  await settle();
  const files: Record<string, string> = {};
  for (const cm of resourcesOf(name).filter(
    (r) => r.type === CONFIG_MAP && r.name.startsWith(`${name}-config-`),
  ))
    Object.assign(files, cm.inputs.data);
  return { files, contentHash };
}

describe("the catalog page in the component", () => {
  test("on by default: the page in a ConfigMap, served at / from the pod's config dir, told the name prefix", async () => {
    const { files } = await configFiles("ui-on", { namePrefix: "mirror/" });
    assert.match(files[PAGE], /^<!doctype html>/);
    assert.match(files[PAGE], /<meta name="static-container-registry-name-prefix" content="mirror\/">/);
    const conf = files["nginx.conf"];
    assert.match(
      conf,
      /^ {8}location = \/ \{\n {12}root \/etc\/static-container-registry;\n {12}try_files \/static-container-registry-ui\.html =404;$/m,
    );
    assert.match(conf, /add_header Content-Security-Policy 'default-src \\'none\\'; script-src \\'sha256-/);
  });

  test("ui: false: no page, no location; the pods roll when it changes", async () => {
    const off = await configFiles("ui-off", { ui: false });
    assert.equal(off.files[PAGE], undefined);
    assert.doesNotMatch(off.files["nginx.conf"], /location = \/ /);
    const on = await configFiles("ui-on-again", {});
    assert.notEqual(off.contentHash, on.contentHash);
  });

  test("ui must be a boolean", () => {
    assert.throws(
      () => new kube.StaticContainerRegistry("ui-bad", { imagesDir: tree.root, ui: "yes" as never }),
      /ui must be true or false, not "yes"/,
    );
  });
});
