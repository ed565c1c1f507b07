import { lineLog, lineStart, lineText } from "./log-line";

// AssemblyScript calls abort() on a failed assertion or a bad cast. The ABI grants no env.abort, so the
// build routes it here (`--use abort=.../sdk/abort/wg_abort`): log the message, then trap. The host
// contains the trap like any other. The line buffer is static, so this works even when the heap is full.
export function wg_abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  lineStart();
  if (message !== null) lineText(message);
  lineLog(50);
  unreachable();
}
