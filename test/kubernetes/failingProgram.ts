/**
 * A Pulumi program (under mocks) whose images tree cannot be served, run in a
 * child process by component.test.ts: the failure must surface the way Pulumi
 * sees it, as an unhandled rejection of the component (which Pulumi reports
 * once and fails the run with), and through the outputs.
 *
 * usage: node failingProgram.js NAME IMAGES_DIR → prints one JSON line.
 */
import { installMocks, resourcesOf, settle, valueOf } from "./mocks";

async function main() {
  const [name, imagesDir] = process.argv.slice(2);
  const unhandled = new Set<unknown>();
  process.on("unhandledRejection", (e) => unhandled.add(e));
  await installMocks();
  const { StaticContainerRegistry, ImagesTreeError } = await import("../../src/kubernetes");
  const reg = new StaticContainerRegistry(name, { imagesDir, existingClaim: { claimName: "images" } });
  let outputError: unknown;
  try {
    await valueOf(reg.endpoint);
  } catch (e) {
    outputError = e;
  }
  await settle();
  // Let every derived promise settle and report.
  await new Promise((r) => setTimeout(r, 200));
  const errors = [...unhandled];
  process.stdout.write(
    JSON.stringify({
      outputError: outputError instanceof ImagesTreeError ? outputError.message : String(outputError),
      outputErrorProblems: outputError instanceof ImagesTreeError ? outputError.problems : undefined,
      // Pulumi de-duplicates by error object: it prints each distinct one once.
      unhandled: errors.map((e) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e))),
      sameErrorObject: errors.length === 1 && errors[0] === outputError,
      resources: resourcesOf(name).map((r) => r.type),
    }) + "\n",
  );
}

main().catch((e) => {
  process.stderr.write(`${e?.stack ?? e}\n`);
  process.exit(2);
});
