// The wasmgate plugin SDK for AssemblyScript. A plugin's entry file re-exports the ABI plumbing:
//   export { wasmgate_abi_v1, wg_input, wg_output } from "../sdk";
// and implements wg_configure / wg_process (and optionally wg_tick) with the helpers below, so the
// plugin's own file holds only its logic.
export { wg_input, wg_output, input, reserveOutput, setResult, grownCapacity, regrow, MAX_REGION } from "./io";
export * from "./status";
export * from "./log";
export * from "./samples";
export * from "./frames";
export * from "./messages";
export * from "./json";
export * from "./settings";
export { Counters } from "./counters";
export { PointSettings } from "./point-settings";
export { host_now as now } from "./env";
export { wg_abort } from "./abort";
export { Utf8, utf8 } from "./utf8";

/** ABI version marker (docs/plugin-abi.md, "Versioning"). Never called. */
export function wasmgate_abi_v1(): void {}
