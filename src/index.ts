/**
 * static-container-registry: public API.
 *
 * scan (disk → Inventory) → render (Inventory → nginx config) → the CLI and
 * the Pulumi component, which are thin shells over the two.
 */
export * from "./inventory";
export * from "./nginx";
export * from "./kubernetes";
export * from "./mirror";
export * from "./nodes";
export * from "./provenance";
