/**
 * Cost of the features: JSON errors, tag-list pagination, the referrers API,
 * the read-only 405 — each against a plain manifest GET by digest on the same
 * server, same load. The servers compared are ours and, where the reference
 * answers the same request, the reference too (for scale, not as a target).
 */
import type { FixtureImage } from "../test/fixtures/build";
import type { Scenario } from "./serving";

export function featureScenarios(images: FixtureImage[]): Scenario[] {
  const busybox = images.find((i) => i.reference === "busybox:1.36");
  const referred = images.find((i) => i.features.includes("referred"));
  const tools = images
    .filter((i) => i.repo === "layouts/tools")
    .map((i) => i.tag)
    .sort();
  if (!busybox || !referred || tools.length < 2)
    throw new Error("fixture tree lacks busybox, a referred image or layouts/tools");
  const absent = "sha256:" + "0123456789abcdef".repeat(4);
  const accept = {
    Accept:
      "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
  };
  const sc = (
    id: string,
    title: string,
    path: string,
    status = 200,
    method: "GET" | "HEAD" = "GET",
    headers?: Record<string, string>,
  ): Scenario => ({
    id,
    title,
    connections: 16,
    metric: "rps",
    size: 0,
    status,
    targets: { ours: { method, path, headers } },
  });
  return [
    sc(
      "baseline-manifest-digest",
      "manifest GET by digest (baseline)",
      `/v2/busybox/manifests/${busybox.digest}`,
      200,
      "GET",
      accept,
    ),
    sc(
      "error-manifest-unknown",
      "404 MANIFEST_UNKNOWN (unknown tag)",
      "/v2/busybox/manifests/no-such-tag",
      404,
    ),
    sc("error-blob-unknown", "404 BLOB_UNKNOWN (unknown digest)", `/v2/busybox/blobs/${absent}`, 404),
    sc(
      "error-name-unknown",
      "404 NAME_UNKNOWN (unknown repository)",
      "/v2/no/such/repo/manifests/latest",
      404,
    ),
    sc("error-digest-invalid", "400 DIGEST_INVALID (malformed digest)", "/v2/busybox/blobs/sha256:xyz", 400),
    sc("tags-list", "tags/list (whole list)", "/v2/layouts/tools/tags/list"),
    sc(
      "tags-list-paginated",
      `tags/list?n=1&last=${tools[0]}`,
      `/v2/layouts/tools/tags/list?n=1&last=${tools[0]}`,
    ),
    sc("catalog-paginated", "_catalog?n=2&last=busybox", "/v2/_catalog?n=2&last=busybox"),
    sc(
      "referrers",
      "referrers of an image with one referrer",
      `/v2/${referred.repo}/referrers/${referred.digest}`,
    ),
    sc(
      "referrers-empty",
      "referrers of an image with none (empty index)",
      `/v2/busybox/referrers/${busybox.digest}`,
    ),
  ];
}
