// Modbus exception codes by name (Modbus Application Protocol Specification V1.1b3, section 7), for
// the log lines about reads and writes the devices answered with an exception.
import { lineUtf8, lineNumber } from "../sdk/log-line";
import { utf8 } from "../sdk/utf8";

/** "exception 2 (illegal data address)". */
export function lineException(code: i32): void {
  lineUtf8(utf8("exception "));
  lineNumber(code);
  if (code == 1) lineUtf8(utf8(" (illegal function)"));
  else if (code == 2) lineUtf8(utf8(" (illegal data address)"));
  else if (code == 3) lineUtf8(utf8(" (illegal data value)"));
  else if (code == 4) lineUtf8(utf8(" (server device failure)"));
  else if (code == 5) lineUtf8(utf8(" (acknowledge)"));
  else if (code == 6) lineUtf8(utf8(" (server device busy)"));
  else if (code == 8) lineUtf8(utf8(" (memory parity error)"));
  else if (code == 0x0a) lineUtf8(utf8(" (gateway path unavailable)"));
  else if (code == 0x0b) lineUtf8(utf8(" (gateway target device failed to respond)"));
  else lineUtf8(utf8(" (not a code of the Modbus specification)"));
}
