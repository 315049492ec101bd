/**
 * The images volume of the pod: a hostPath (with SSH `nodes`, the delivered
 * set it was made for), an existing claim, or a PersistentVolume and claim
 * created here (the pods then wait for the claim).
 */
import { claimVolume, createVolumeAndClaim, hostPathVolume } from "../storage";
import { need, type BuildContext } from "./context";
import { imagesPathOnNode } from "./nodes";

export function storageStep(ctx: BuildContext): void {
  const a = ctx.args;
  if (a.storage === "hostPath") {
    ctx.imagesVolume = hostPathVolume({ ...a.hostPath!, path: imagesPathOnNode(ctx) });
  } else if (a.storage === "existingClaim") {
    ctx.imagesVolume = claimVolume(a.existingClaim!.claimName);
  } else {
    const created = createVolumeAndClaim(
      ctx.name,
      ctx.instance,
      a.persistentVolume!,
      { labels: ctx.labels("storage"), annotations: ctx.annotations },
      need(ctx.namespace, "the namespace", "storage"),
      ctx.child,
    );
    ctx.imagesVolume = claimVolume(created.claim.metadata.name);
    ctx.dependsOn.push(created.claim);
  }
}
