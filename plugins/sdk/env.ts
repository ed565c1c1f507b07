// Raw imports granted by the host (docs/plugin-abi.md, "Imports the host grants"). Nothing else may be
// declared @external in a plugin: the host refuses modules with ungranted imports.

@external("wasmgate", "log")
export declare function host_log(level: i32, ptr: usize, len: i32): void;

@external("wasmgate", "now")
export declare function host_now(): f64;
