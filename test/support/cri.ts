/**
 * A CRI image client for the node simulation: the calls the kubelet makes to
 * pull an image (`runtime.v1.ImageService/PullImage` on containerd's socket),
 * to ask for it, and to remove it. containerd's CRI plugin then resolves and
 * fetches in the containerd process itself, through the `hosts.toml` files of
 * its registry `config_path` — the path a kubelet's pulls take, not the one
 * of `ctr --hosts-dir` (which fetches in the ctr process).
 *
 * The service definition is test/support/cri.proto (a subset of
 * kubernetes/cri-api's api.proto, same names and numbers), loaded at run time.
 */
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

/** test/support/cri.proto, from dist/test/support or test/support alike. */
const PROTO = path.resolve(__dirname, "..", "..", "..", "test", "support", "cri.proto");

export interface CriImage {
  id: string;
  repoTags: string[];
  repoDigests: string[];
}

export interface CriImageClient {
  /** Pulls `image` as the kubelet does; resolves to the image ref (the image id) containerd returns. */
  pull(image: string, timeoutMs?: number): Promise<string>;
  /** The image as the runtime knows it, or undefined when it has none. */
  status(image: string): Promise<CriImage | undefined>;
  /** Removes the image (every name of it); containerd then drops its content. */
  remove(image: string): Promise<void>;
  close(): void;
}

type Callback<T> = (err: grpc.ServiceError | null, res: T) => void;
/* eslint-disable @typescript-eslint/no-explicit-any */
type Raw = Record<
  string,
  (req: unknown, meta: grpc.Metadata, opts: grpc.CallOptions, cb: Callback<any>) => void
>;

let loaded: grpc.GrpcObject | undefined;
function service(): grpc.ServiceClientConstructor {
  loaded ??= grpc.loadPackageDefinition(
    protoLoader.loadSync(PROTO, { keepCase: false, longs: String, defaults: true }),
  );
  return ((loaded.runtime as grpc.GrpcObject).v1 as grpc.GrpcObject)
    .ImageService as grpc.ServiceClientConstructor;
}

/** A client of the CRI image service on the unix socket `socket` (an absolute path). */
export function criImageClient(socket: string): CriImageClient {
  const Client = service();
  const raw = new Client(`unix://${socket}`, grpc.credentials.createInsecure()) as unknown as Raw &
    grpc.Client;
  const call = <T>(method: string, req: unknown, timeoutMs = 60000) =>
    new Promise<T>((resolve, reject) =>
      raw[method](req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) =>
        err ? reject(new Error(`CRI ${method}: ${err.details || err.message}`)) : resolve(res as T),
      ),
    );
  return {
    pull: async (image, timeoutMs = 120000) =>
      (await call<{ imageRef: string }>("PullImage", { image: { image } }, timeoutMs)).imageRef,
    status: async (image) => {
      const res = await call<{ image: CriImage | null }>("ImageStatus", { image: { image } });
      return res.image ?? undefined;
    },
    remove: async (image) => {
      await call("RemoveImage", { image: { image } });
    },
    close: () => raw.close(),
  };
}
