/**
 * What runs on the nodes: the delivery plan, the step scripts, the runtime
 * wiring texts, and the writer of files placed on a node. (The component's
 * node arguments, `nodes` and `registryImage`, are src/kubernetes/args/nodes.ts.)
 */
export { planDelivery, stageMissing, parseHave, type DeliveryPlan, type DeliveryEntry } from "./delivery";
export {
  prepareScript,
  deliverScript,
  undeliverScript,
  importScript,
  unimportScript,
  wireScript,
  unwireScript,
  incomingDir,
  setDir,
  NODE_STATE_DIR,
} from "./scripts";
export { shWriteFiles, type NodeFile } from "./files";
export * from "./wiring";
