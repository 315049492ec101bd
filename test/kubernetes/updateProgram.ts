/**
 * One run of a stack under mocks, for updates.test.ts: constructs the
 * component with the given images dir and prints every resource it
 * registered (type, name, inputs) as one JSON line. Run twice, before and
 * after the images change, it shows what an update would send.
 *
 * usage: node updateProgram.js IMAGES_DIR
 */
import { installMocks, resourcesOf, settle, valueOf } from "./mocks";

async function main() {
  const [imagesDir] = process.argv.slice(2);
  await installMocks();
  const { StaticContainerRegistry } = await import("../../src/kubernetes");
  const reg = new StaticContainerRegistry("upd", {
    imagesDir,
    namespace: "registry",
    createNamespace: true,
    persistentVolume: { spec: { nfs: { server: "nfs.invalid", path: "/images" } } },
    replicas: 2,
  });
  await valueOf(reg.hostsToml);
  await settle();
  const res = resourcesOf("upd").map((r) => ({ key: `${r.type} ${r.name}`, inputs: r.inputs }));
  process.stdout.write(JSON.stringify(res) + "\n");
}

main().catch((e) => {
  process.stderr.write(`${e?.stack ?? e}\n`);
  process.exit(2);
});
