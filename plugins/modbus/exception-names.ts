// Modbus exception codes by name (Modbus Application Protocol Specification V1.1b3, section 7), for
// the log lines about reads and writes the devices answered with an exception.
import { lineText, lineNumber } from "../sdk/log-line";

/** "exception 2 (illegal data address)". */
export function lineException(code: i32): void {
  lineText("exception ");
  lineNumber(code);
  if (code == 1) lineText(" (illegal function)");
  else if (code == 2) lineText(" (illegal data address)");
  else if (code == 3) lineText(" (illegal data value)");
  else if (code == 4) lineText(" (server device failure)");
  else if (code == 5) lineText(" (acknowledge)");
  else if (code == 6) lineText(" (server device busy)");
  else if (code == 8) lineText(" (memory parity error)");
  else if (code == 0x0a) lineText(" (gateway path unavailable)");
  else if (code == 0x0b) lineText(" (gateway target device failed to respond)");
  else lineText(" (not a code of the Modbus specification)");
}
