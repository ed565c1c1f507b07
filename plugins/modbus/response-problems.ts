// What was wrong with the responses to each planned request, logged when it changes. A device that
// answers every poll of a read with the same exception gets one warning, naming the device, unit id,
// function, address range, points and what the code means; the repeats are counted (wg_stats) and
// the line that ends the run, when the read answers well again or fails otherwise, says how many
// there were. So the log grows with what changes, never with the poll rate.
import { INFO, WARN } from "../sdk/log";
import { lineStart, lineUtf8, lineBytes, lineNumber, lineLog } from "../sdk/log-line";
import { Utf8, utf8 } from "../sdk/utf8";
import { Counters } from "../sdk/counters";
import { lineException } from "./exception-names";
import { deviceNames, deviceCount, pointNames, R_ID, RECORD_SIZE } from "./point-table";
import { requestCount, requests, entries, Q_START, Q_QUANTITY, Q_FUNCTION, Q_UNIT, Q_DEVICE, Q_FIRST, Q_COUNT, REQUEST_SIZE } from "./request-plan";

/** This plugin's wg_stats: responses that were exceptions, responses that did not fit their request, records of no planned request. */
export const counters = new Counters("exception_responses mismatched_responses unplanned_records");
const EXCEPTION_RESPONSES = 0;
const MISMATCHED_RESPONSES = 1;
const UNPLANNED_RECORDS = 2;

// A problem is a key: NONE, EXCEPTION + the exception code, or MISMATCH for a response that does not
// fit its request (the detail says how; which field differs from one poll to the next is no news).
const NONE: u32 = 0;
const EXCEPTION: u32 = 1;
const MISMATCH: u32 = 0x200;
// Exceptions a gateway answers for a device behind it that it cannot reach: its points are no-comm.
export const GATEWAY_PATH_UNAVAILABLE: i32 = 0x0a;
export const GATEWAY_TARGET_FAILED: i32 = 0x0b;

// Per request: the problem of its last response, and how many responses in a row had it.
let lastProblem: usize = 0;
let runLength: usize = 0;
// The last unplanned request index logged, so a stream of them is one line.
let lastUnplanned: i32 = -1;

// The current response's first problem.
let problem: u32 = NONE;
let detail: Utf8 = utf8("");
let got: i32 = 0;
let want: i32 = 0;

/** Makes room for the state of every planned request (after the plan is built). */
export function problemsConfigure(): void {
  const bytes = <usize>max(requestCount, 1) * 4;
  lastProblem = heap.alloc(bytes);
  runLength = heap.alloc(bytes);
  memory.fill(lastProblem, 0, bytes);
  memory.fill(runLength, 0, bytes);
}

/** Starts checking a response: nothing is wrong with it yet. */
export function responseStart(): void {
  problem = NONE;
}

/** The response is exception `code`. */
export function noteException(code: i32): void {
  if (problem == NONE) problem = EXCEPTION + (<u32>code & 0xff);
}

/**
 * The response does not fit its request: `what` names the field, `value` is what the response says,
 * `expected` what the request asks for (-1: nothing to compare). The first problem of a response is
 * the one reported: it is the likeliest cause of the others.
 */
export function noteMismatch(what: Utf8, value: i32, expected: i32): void {
  if (problem != NONE) return;
  problem = MISMATCH;
  detail = what;
  got = value;
  want = expected;
}

/** Whether the response being checked has a problem noted. */
export function responseFaulty(): bool {
  return problem != NONE;
}

/** Appends the noted mismatch to the log line: "CRC 1234, expected 4321". */
export function lineMismatch(): void {
  lineUtf8(detail);
  lineNumber(got);
  if (want >= 0) {
    lineUtf8(utf8(", expected "));
    lineNumber(want);
  }
}

/** Counts, and logs when it starts, a record whose request index `r` the plan does not have. */
export function noteUnplanned(device: i32, r: i32): void {
  counters.add(UNPLANNED_RECORDS, 1);
  if (r == lastUnplanned) return;
  lastUnplanned = r;
  lineStart();
  lineUtf8(utf8("device "));
  deviceName(device);
  lineUtf8(utf8(": dropped a record of request "));
  lineNumber(r);
  lineUtf8(utf8(", which this plan of "));
  lineNumber(requestCount);
  lineUtf8(utf8(" requests does not have; repeats are counted, not logged"));
  lineLog(WARN);
}

/** Ends the check of request `r`'s response: logs when its problem differs from the last response's. */
export function responseSettle(r: i32): void {
  if (problem != NONE && problem != MISMATCH) counters.add(EXCEPTION_RESPONSES, 1);
  if (problem == MISMATCH) counters.add(MISMATCHED_RESPONSES, 1);
  const lastAt = lastProblem + <usize>r * 4;
  const runAt = runLength + <usize>r * 4;
  const last = load<u32>(lastAt);
  const run = load<u32>(runAt);
  if (problem == last) {
    store<u32>(runAt, run + 1);
    return;
  }
  store<u32>(lastAt, problem);
  store<u32>(runAt, 1);
  const q = requests + <usize>r * REQUEST_SIZE;
  lineStart();
  describeRead(q);
  if (problem == NONE) {
    lineUtf8(utf8(": answers again after "));
    describeRun(last, run);
    lineLog(INFO);
    return;
  }
  lineUtf8(utf8(": "));
  if (problem == MISMATCH) {
    lineMismatch();
  } else {
    describeException(q, <i32>(problem - EXCEPTION));
  }
  const noComm = problem == EXCEPTION + GATEWAY_PATH_UNAVAILABLE || problem == EXCEPTION + GATEWAY_TARGET_FAILED;
  // Point names come last: a line too long for the buffer loses the end of the list, not the news.
  if (last != NONE) {
    lineUtf8(utf8("; before it, "));
    describeRun(last, run);
  }
  lineUtf8(utf8("; points "));
  describePoints(q);
  lineUtf8(noComm ? utf8(": NaN, no-comm") : utf8(": NaN, bad"));
  lineUtf8(utf8("; repeats are counted, not logged"));
  lineLog(WARN);
}

function deviceName(d: i32): void {
  if (d >= deviceCount) {
    lineUtf8(utf8("#"));
    lineNumber(d);
    return;
  }
  const name = deviceNames + <usize>d * 8;
  lineBytes(load<u32>(name), <i32>load<u32>(name, 4));
}

/** "device plc1 unit 1, function 3 (read holding registers) of addresses 0-1" (or "of address 7"). */
function describeRead(q: usize): void {
  const fn = <i32>load<u8>(q, Q_FUNCTION);
  const start = <i32>load<u16>(q, Q_START);
  lineUtf8(utf8("device "));
  deviceName(<i32>load<u16>(q, Q_DEVICE));
  lineUtf8(utf8(" unit "));
  lineNumber(<i32>load<u8>(q, Q_UNIT));
  lineUtf8(utf8(", function "));
  lineNumber(fn);
  if (fn == 1) lineUtf8(utf8(" (read coils)"));
  else if (fn == 2) lineUtf8(utf8(" (read discrete inputs)"));
  else if (fn == 3) lineUtf8(utf8(" (read holding registers)"));
  else lineUtf8(utf8(" (read input registers)"));
  const quantity = <i32>load<u16>(q, Q_QUANTITY);
  lineUtf8(quantity == 1 ? utf8(" of address ") : utf8(" of addresses "));
  lineNumber(start);
  if (quantity == 1) return;
  lineUtf8(utf8("-"));
  lineNumber(start + quantity - 1);
}

/** "57 responses with exception 2" or "3 responses that did not fit the read". */
function describeRun(key: u32, run: u32): void {
  lineNumber(<i32>run);
  if (key == MISMATCH) {
    lineUtf8(run == 1 ? utf8(" response not fitting the read") : utf8(" responses not fitting the read"));
  } else {
    lineUtf8(run == 1 ? utf8(" response with exception ") : utf8(" responses with exception "));
    lineNumber(<i32>(key - EXCEPTION));
  }
}

/**
 * "exception 2 (illegal data address): <what to check>". Names (exception-names.ts) and meanings from the Modbus
 * Application Protocol Specification V1.1b3, section 7.
 */
function describeException(q: usize, code: i32): void {
  lineException(code);
  if (code == 1) lineUtf8(utf8(": check the points' function"));
  else if (code == 2) {
    lineUtf8(utf8(": check the addresses against the device's register map"));
    if (looksOneBased(q)) lineUtf8(utf8(" (in a 1-based map, 40001 is address 0 of function 3)"));
  }
  else if (code == 3) lineUtf8(utf8(": try a lower max_registers or max_bits"));
  else if (code == 6) lineUtf8(utf8(": poll less often"));
  else if (code == GATEWAY_PATH_UNAVAILABLE) lineUtf8(utf8(": check unit_id and the gateway"));
  else if (code == GATEWAY_TARGET_FAILED) lineUtf8(utf8(": check unit_id and the device"));
}

/**
 * Whether the read starts at what looks like a 1-based register number of its table: 40001-49999
 * on function 3, 30001-39999 on 4, 10001-19999 on 2 (validate hints at the same addresses).
 */
function looksOneBased(q: usize): bool {
  const fn = <i32>load<u8>(q, Q_FUNCTION);
  const first = fn == 3 ? 40001 : fn == 4 ? 30001 : fn == 2 ? 10001 : 0;
  const start = <i32>load<u16>(q, Q_START);
  return first > 0 && start >= first && start <= first + 9998;
}

/** The names of the request's points: the first few, then how many more. */
function describePoints(q: usize): void {
  const first = entries + <usize>load<u32>(q, Q_FIRST) * RECORD_SIZE;
  const count = <i32>load<u32>(q, Q_COUNT);
  const shown = min(count, 4);
  for (let i = 0; i < shown; i++) {
    if (i > 0) lineUtf8(utf8(", "));
    const name = pointNames + <usize>load<u32>(first + <usize>i * RECORD_SIZE, R_ID) * 8;
    lineBytes(load<u32>(name), <i32>load<u32>(name, 4));
  }
  if (count > shown) {
    lineUtf8(utf8(" and "));
    lineNumber(count - shown);
    lineUtf8(utf8(" more"));
  }
}
