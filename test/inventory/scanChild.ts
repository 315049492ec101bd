/**
 * `node scanChild.js ROOT`: scans ROOT and prints the Inventory as JSON. For
 * tests that must bound a scan's time from outside its process (a scan
 * blocked in a system call blocks its event loop, and with it any timer).
 */
import { scan } from "../../src/inventory";

scan(process.argv[2]).then(
  (inv) => process.stdout.write(JSON.stringify(inv)),
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exitCode = 2;
  },
);
