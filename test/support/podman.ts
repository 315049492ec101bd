/**
 * podman as the tests run it: everything it keeps under one test dir, nothing
 * in the machine's own storage or configuration. Its storage (vfs: no
 * overlay mounts needed) is per `store`, so pulls do not see each other's
 * layers; its registries.conf has no search registries; blobs are staged in
 * the test dir (not /var/tmp); a signature policy accepts the unsigned,
 * locally built test images.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { runClient, runClientAny } from "./tools";

/**
 * podman's global options that put its storage under `dir`. Keep `dir`
 * short: podman refuses a runroot longer than 50 characters.
 */
export function podmanStorageArgs(dir: string): string[] {
  return [
    "--root",
    path.join(dir, "root"),
    "--runroot",
    path.join(dir, "run"),
    "--tmpdir",
    path.join(dir, "tmp"),
    "--storage-driver",
    "vfs",
    "--cgroup-manager=cgroupfs",
    "--events-backend=file",
  ];
}

export interface PrivatePodman {
  /** The signature policy to pass to `pull --signature-policy`. */
  policy: string;
  /** podman with its storage in `<dir>/<store>`; throws with its output when it fails (runClient). */
  run: (store: string, args: string[]) => ReturnType<typeof runClient>;
  /** The same, whatever its exit status (runClientAny). */
  runAny: (store: string, args: string[]) => ReturnType<typeof runClientAny>;
}

/** A podman configured as the header says, all of it under `dir`. */
export function privatePodman(dir: string): PrivatePodman {
  fs.writeFileSync(path.join(dir, "registries.conf"), "unqualified-search-registries = []\n");
  fs.mkdirSync(path.join(dir, "copy-tmp"));
  fs.writeFileSync(
    path.join(dir, "containers.conf"),
    `[engine]\nimage_copy_tmp_dir = "${path.join(dir, "copy-tmp")}"\n`,
  );
  const policy = path.join(dir, "policy.json");
  fs.writeFileSync(policy, JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] }));
  const env = {
    ...process.env,
    CONTAINERS_REGISTRIES_CONF: path.join(dir, "registries.conf"),
    CONTAINERS_CONF: path.join(dir, "containers.conf"),
  };
  const argv = (store: string, args: string[]) => [...podmanStorageArgs(path.join(dir, store)), ...args];
  return {
    policy,
    run: (store, args) => runClient("podman", argv(store, args), { env }),
    runAny: (store, args) => runClientAny("podman", argv(store, args), { env }),
  };
}
