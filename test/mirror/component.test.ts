/**
 * The component with `images`, under Pulumi mocks: one command per reference
 * whose create/delete are exactly the mirror scripts the CLI runs (with the
 * skopeo command line of skopeoCopyArgv and the provenance step, which the
 * e2e tests run for real), credentials only in a secret environment, the
 * public keys of `verifyKeys` in the environment with the step requiring a
 * signature, the scan after the commands, and a removed reference's tag gone
 * before the scan.
 *
 * The mock "runs" a command by writing an image into its tag directory, so a
 * scan that ran before the commands would find nothing (and fail).
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { parseReference } from "../../src/mirror/reference";
import { planItem } from "../../src/mirror/plan";
import { AUTH_ENV, mirrorScript, tagDir, unmirrorScript } from "../../src/mirror/script";
import { skopeoCopyArgv } from "../../src/mirror/skopeo";
import { partialDir } from "../../src/mirror/plan";
import { mirrorCommandName } from "../../src/kubernetes/steps/mirror";
import { provenanceArgv, VERIFY_KEYS_ENV } from "../../src/provenance/command";
import { shCommand } from "../../src/shell";
import { writeSyntheticTree } from "../kubernetes/synthetic";
import { tmpDir } from "../support/tools";
import { settle, valueOf } from "../kubernetes/mocks";

/* eslint-disable @typescript-eslint/no-explicit-any */

// How the SDK marks a secret value on the wire (@pulumi/pulumi/runtime/rpc specialSigKey / specialSecretSig).
const SECRET_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

interface Seen {
  type: string;
  name: string;
  inputs: any;
}
const seen: Seen[] = [];
/** Order in which things happened: command runs and scans (seen as ConfigMap registrations). */
const events: string[] = [];
const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** Writes a small valid image into `dest` (what skopeo would have done). */
function fakeCopy(dest: string): void {
  if (fs.existsSync(path.join(dest, "manifest.json"))) return; // up to date: the script skips it
  const stage = tmpDir(`mirror-mock-${process.pid}`);
  dirs.push(stage);
  writeSyntheticTree(stage, { repos: 1, tagsPerRepo: 1, repoName: () => "x" });
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.renameSync(path.join(stage, "x", "v1.0.0"), dest);
}

before(() =>
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        seen.push({ type: args.type, name: args.name, inputs: args.inputs });
        const state = structuredClone(args.inputs ?? {});
        if (args.type === "command:local:Command") {
          fakeCopy(args.inputs.triggers[1]);
          events.push(`command ${args.inputs.triggers[0]}`);
          state.stdout = `copied ${args.inputs.triggers[0]}`;
        }
        if (args.type.startsWith("kubernetes:")) {
          state.metadata ??= {};
          state.metadata.name ??= args.name;
          state.metadata.namespace ??= "default";
          if (state.kind === "ConfigMap") events.push(`configmap ${args.name}`);
        }
        return { id: `${args.name}-id`, state };
      },
      call: (args) => args.inputs,
    },
    "mirror-test",
    "test",
    false,
  ),
);

/** `x` with every secret-wrapped value replaced by "[secret]". */
function withoutSecrets(x: any): any {
  if (Array.isArray(x)) return x.map(withoutSecrets);
  if (x && typeof x === "object") {
    if (x[SECRET_KEY] === SECRET_SIG) return "[secret]";
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, withoutSecrets(v)]));
  }
  return x;
}

const REFS = [
  "upstream-a.invalid/team/app:v1",
  "alpine:3.19",
  `upstream-b.invalid/tools@sha256:${"ab".repeat(32)}`,
];
const FROM_FILE = "registry.k8s.io/pause:3.10";

async function construct(name: string, root: string, extra: Record<string, unknown> = {}) {
  const listFile = path.join(root, "..", `${name}.txt`);
  fs.writeFileSync(listFile, `# from a file\n${FROM_FILE}\n`);
  const { StaticContainerRegistry } = await import("../../src/kubernetes/component");
  const reg = new StaticContainerRegistry(name, {
    imagesDir: root,
    images: REFS,
    imagesFile: listFile,
    hostPath: { path: "/var/lib/images", anyNode: true },
    nodeEndpoint: "127.0.0.1:30500",
    registryCredentials: {
      // A plain string on purpose: the component must make it a secret itself.
      "upstream-a.invalid": { username: "robot", password: "s3cret-pw" },
    },
    ...extra,
  } as any);
  const out = {
    repositories: await valueOf(reg.repositories),
    hostsTomls: await valueOf(reg.hostsTomls),
    registriesYaml: await valueOf(reg.registriesYaml),
  };
  await settle();
  return { reg, out };
}

test("one command per reference, running exactly the mirror script (skopeo command line included)", async () => {
  const work = tmpDir(`mirror-component-${process.pid}`);
  dirs.push(work);
  const root = path.join(work, "images"); // does not exist yet: the commands create it
  const { out } = await construct("boot", root);
  const commands = seen.filter((r) => r.type === "command:local:Command" && r.name.startsWith("boot-"));
  const items = [...REFS, FROM_FILE].map((r) => planItem(parseReference(r)));
  assert.deepEqual(commands.map((c) => c.name).sort(), items.map((i) => mirrorCommandName("boot", i)).sort());
  const skopeo = { retries: 3 };
  for (const item of items) {
    const c = commands.find((x) => x.name === mirrorCommandName("boot", item))!;
    assert.equal(
      c.inputs.create,
      mirrorScript(item, root, skopeo, provenanceArgv(item, root, skopeo, false)),
      `${item.canonical}: create`,
    );
    assert.doesNotMatch(c.inputs.create, /--require-signature/, "no keys, no signature required");
    assert.equal(c.inputs.delete, unmirrorScript(item, root), `${item.canonical}: delete`);
    const copy = shCommand(skopeoCopyArgv(item.source, partialDir(tagDir(root, item)), skopeo));
    assert.ok(c.inputs.create.includes(`  ${copy}\n`), `${item.canonical}: runs ${copy}`);
    assert.deepEqual(c.inputs.triggers, [item.canonical, tagDir(root, item)]);
    assert.deepEqual(c.inputs.interpreter, ["/bin/sh", "-c"]);
  }
  // The scan saw what the commands wrote: every listed image is served under its original name.
  assert.deepEqual(
    out.repositories.map((r) => r.name),
    [
      "docker.io/library/alpine",
      "registry.k8s.io/pause",
      "upstream-a.invalid/team/app",
      "upstream-b.invalid/tools",
    ],
  );
  const firstConfigMap = events.findIndex((e) => e.startsWith("configmap boot-"));
  const lastCommand = events.map((e) => e.startsWith("command ")).lastIndexOf(true);
  assert.ok(
    firstConfigMap > lastCommand,
    `the config was rendered after every command ran: ${events.join(", ")}`,
  );
  // Every upstream host is wired under its own name.
  assert.deepEqual(Object.keys(out.hostsTomls), [
    "docker.io",
    "registry.k8s.io",
    "static-container-registry.invalid",
    "upstream-a.invalid",
    "upstream-b.invalid",
  ]);
  assert.match(
    out.hostsTomls["registry.k8s.io"],
    /^\[host\."http:\/\/127\.0\.0\.1:30500\/v2\/registry\.k8s\.io"\]$/m,
  );
  assert.deepEqual(parse(out.registriesYaml).mirrors["docker.io"], {
    endpoint: ["http://127.0.0.1:30500"],
    rewrite: { "^(.*)$": "docker.io/$1" },
  });
});

test("credentials only in the commands' environment, as a secret", async () => {
  const commands = seen.filter((r) => r.type === "command:local:Command" && r.name.startsWith("boot-"));
  const b64 = Buffer.from("robot:s3cret-pw").toString("base64");
  for (const c of commands) {
    const plain = JSON.stringify({
      create: c.inputs.create,
      delete: c.inputs.delete,
      triggers: c.inputs.triggers,
    });
    assert.ok(
      !plain.includes("s3cret") && !plain.includes(b64),
      `${c.name}: no credential in its text or triggers`,
    );
    // The engine receives the environment wrapped as a secret (so state keeps it encrypted).
    const env = c.inputs.environment;
    assert.equal(env[SECRET_KEY], SECRET_SIG, `${c.name}: the environment is a secret`);
    const auth = JSON.parse(env.value.SCR_REGISTRY_AUTH);
    assert.deepEqual(auth, { auths: { "upstream-a.invalid": { auth: b64 } } });
  }
  const { authJson } = await import("../../src/kubernetes/steps/mirror");
  assert.equal(await pulumi.isSecret(authJson({ h: { username: "u", password: "p" } })), true);
  // Nothing else the component registered holds it in the clear, its own recorded args included.
  assert.ok(
    seen.some((x) => x.type === "static-container-registry:index:StaticContainerRegistry"),
    "the component's own inputs were checked",
  );
  for (const r of seen.filter((x) => x.type !== "command:local:Command"))
    assert.ok(!JSON.stringify(withoutSecrets(r.inputs)).includes("s3cret"), `${r.type} ${r.name}`);
});

test("a reference removed from the list: its tag is gone before the scan, and an unchanged list runs nothing new", async () => {
  const work = tmpDir(`mirror-component-${process.pid}`);
  dirs.push(work);
  const root = path.join(work, "images");
  await construct("shrink", root);
  const dropped = planItem(parseReference(REFS[0]));
  assert.ok(fs.existsSync(tagDir(root, dropped)));
  const before = seen.length;
  const { out } = await construct("shrink", root, { images: REFS.slice(1) });
  assert.ok(!fs.existsSync(tagDir(root, dropped)), "the removed reference's tag was removed");
  assert.ok(!out.repositories.some((r) => r.name === "upstream-a.invalid/team/app"), "and is not served");
  const again = seen.slice(before).filter((r) => r.type === "command:local:Command");
  assert.equal(again.length, REFS.length, "one command per remaining reference");
});

test("bad references are argument problems, all at once", async () => {
  const { validateArgs } = await import("../../src/kubernetes/args");
  assert.throws(
    () =>
      validateArgs("bad", {
        imagesDir: "/nonexistent-images-dir",
        images: ["Bad Ref", "alpine:3.19", "docker.io/library/alpine:3.19@sha256:" + "0".repeat(64)],
        hostPath: { path: "/x", anyNode: true },
      }),
    (e: Error) =>
      e.message.includes('images: "Bad Ref": contains white space') &&
      e.message.includes("both go to docker.io/library/alpine/3.19") &&
      !e.message.includes("does not exist"),
  );
});

const publicKey = (curve: "P-256" | "P-384") =>
  String(generateKeyPairSync("ec", { namedCurve: curve }).publicKey.export({ type: "spki", format: "pem" }));

test("verifyKeys: every command requires a signature, the keys (plain or Output) in its environment", async () => {
  const work = tmpDir(`mirror-component-${process.pid}`);
  dirs.push(work);
  const root = path.join(work, "images");
  const keys = [publicKey("P-256"), publicKey("P-384")];
  await construct("signed", root, { verifyKeys: [keys[0], pulumi.output(keys[1])] });
  const commands = seen.filter((r) => r.type === "command:local:Command" && r.name.startsWith("signed-"));
  assert.equal(commands.length, REFS.length + 1);
  const skopeo = { retries: 3 };
  for (const c of commands) {
    const item = [...REFS, FROM_FILE]
      .map((r) => planItem(parseReference(r)))
      .find((i) => i.canonical === c.inputs.triggers[0])!;
    const step = provenanceArgv(item, root, skopeo, true);
    assert.equal(c.inputs.create, mirrorScript(item, root, skopeo, step), `${item.canonical}: create`);
    assert.ok(
      c.inputs.create.includes(`${shCommand(step)} --digest "$digest" --image-dir "$image"\n`),
      `${item.canonical}: the step runs with --require-signature before the image is moved into place`,
    );
    assert.ok(step.includes("--require-signature") && step.includes(item.canonical));
    const env = withoutSecrets(c.inputs.environment);
    assert.equal(env, "[secret]", "the environment holds the credentials, so it is a secret as a whole");
    const keysEnv = JSON.parse(c.inputs.environment.value[VERIFY_KEYS_ENV]);
    assert.deepEqual(keysEnv, [
      { name: "verifyKeys[0]", text: keys[0] },
      { name: "verifyKeys[1]", text: keys[1] },
    ]);
  }
});

test("registriesConf and the credentials reach the provenance step, whose referrers lookup reads them as skopeo does", async () => {
  const work = tmpDir(`mirror-component-${process.pid}`);
  dirs.push(work);
  const root = path.join(work, "images");
  const conf = path.join(work, "registries.conf");
  fs.writeFileSync(
    conf,
    '[[registry]]\nprefix = "upstream-a.invalid"\nlocation = "127.0.0.1:5000"\ninsecure = true\n',
  );
  await construct("conf", root, { registriesConf: conf });
  const commands = seen.filter((r) => r.type === "command:local:Command" && r.name.startsWith("conf-"));
  assert.equal(commands.length, REFS.length + 1);
  const skopeo = { retries: 3, registriesConf: conf };
  for (const c of commands) {
    const item = [...REFS, FROM_FILE]
      .map((r) => planItem(parseReference(r)))
      .find((i) => i.canonical === c.inputs.triggers[0])!;
    const step = provenanceArgv(item, root, skopeo, false);
    assert.deepEqual(step.slice(step.indexOf("--registries-conf"), step.indexOf("--registries-conf") + 2), [
      "--registries-conf",
      conf,
    ]);
    const create: string = c.inputs.create;
    assert.equal(create, mirrorScript(item, root, skopeo, step), `${item.canonical}: create`);
    // The auth file skopeo reads is exported before the step runs, so the step's referrers client reads it too.
    const exported = create.indexOf("export REGISTRY_AUTH_FILE");
    assert.ok(exported > 0 && exported < create.indexOf(`${shCommand(step)} --digest`), item.canonical);
    const auth = JSON.parse(c.inputs.environment.value[AUTH_ENV]) as {
      auths: Record<string, { auth: string }>;
    };
    assert.equal(
      Buffer.from(auth.auths["upstream-a.invalid"].auth, "base64").toString(),
      "robot:s3cret-pw",
      "the credentials travel to the script (as a secret)",
    );
  }
});

test("verifyKeys: a bad key is an argument problem naming it; without images it is one too", async () => {
  const { validateArgs } = await import("../../src/kubernetes/args");
  const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
  assert.throws(
    () =>
      validateArgs("bad", {
        imagesDir: "/nonexistent-images-dir",
        images: ["alpine:3.19"],
        verifyKeys: [
          publicKey("P-256"),
          String(pair.privateKey.export({ type: "pkcs8", format: "pem" })),
          "nope",
        ],
        hostPath: { path: "/x", anyNode: true },
      } as any),
    (e: Error) =>
      e.message.includes("key verifyKeys[1] is a private key (PRIVATE KEY)") &&
      e.message.includes("key verifyKeys[2] holds no PEM block") &&
      !e.message.includes("verifyKeys[0]"),
  );
  assert.throws(
    () =>
      validateArgs("bad", {
        imagesDir: "/nonexistent-images-dir",
        verifyKeys: [publicKey("P-256")],
        hostPath: { path: "/x", anyNode: true },
      } as any),
    /verifyKeys is only used with images or imagesFile/,
  );
  // Keys given as Outputs are checked when they resolve, before any command gets them.
  const { verifyKeysText } = await import("../../src/kubernetes/steps/mirror");
  assert.throws(
    () => verifyKeysText([publicKey("P-256"), "not a key"]),
    /key verifyKeys\[1\] holds no PEM block/,
  );
  assert.throws(() => verifyKeysText([]), /verifyKeys is empty/);
});
