import { host_log } from "./env";

// AssemblyScript calls abort() on a failed assertion or a bad cast. The ABI grants no env.abort, so the
// build routes it here (`--use abort=.../sdk/abort/wg_abort`): log the message, then trap. The host
// contains the trap like any other.
export function wg_abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  if (message !== null) {
    const bytes = String.UTF8.encode(message);
    host_log(50, changetype<usize>(bytes), bytes.byteLength);
  }
  unreachable();
}
