// What a device says when it will not answer a request (ASHRAE 135, 18 and 21): an Error (a class
// and a code), a Reject (the request is malformed to it) or an Abort (the transaction ends, often
// because the answer would need segmentation). Names for the log lines; numbers it does not name
// are written as numbers.
import { lineListed } from "./words";
import { lineNumber, lineUtf8 } from "../sdk/log-line";
import { Utf8, utf8 } from "../sdk/utf8";

// BACnetErrorClass, 0-7.
const ERROR_CLASSES = utf8("device object property resources security services vt communication");
// BACnetRejectReason, 0-9.
const REJECT_REASONS = utf8("other buffer-overflow inconsistent-parameters invalid-parameter-data-type invalid-tag \
missing-required-parameter parameter-out-of-range too-many-arguments undefined-enumeration unrecognized-service");
// BACnetAbortReason, 0-11.
const ABORT_REASONS = utf8("other buffer-overflow invalid-apdu-in-this-state preempted-by-higher-priority-task \
segmentation-not-supported security-error insufficient-security window-size-out-of-range \
application-exceeded-reply-time out-of-resources tsm-timeout apdu-too-long");

/** BACnetAbortReason segmentation-not-supported: the answer does not fit one APDU, and we refuse segments. */
export const ABORT_SEGMENTATION_NOT_SUPPORTED: u32 = 4;

function lineIndexed(words: Utf8, count: u32, n: u32, what: Utf8): void {
  if (n < count) lineListed(words, <i32>n);
  else {
    lineUtf8(what);
    lineNumber(<i32>n);
  }
}

/** Appends "property unknown-property". */
export function lineError(errorClass: u32, errorCode: u32): void {
  lineIndexed(ERROR_CLASSES, 8, errorClass, utf8("class "));
  lineUtf8(utf8(" "));
  lineErrorCode(errorCode);
}

export function lineReject(reason: u32): void {
  lineIndexed(REJECT_REASONS, 10, reason, utf8("reason "));
}

export function lineAbort(reason: u32): void {
  lineIndexed(ABORT_REASONS, 12, reason, utf8("reason "));
}

// The BACnetErrorCode values a read meets, and their names in the same order; others are "code N".
const ERROR_CODE_NUMBERS = memory.data<u8>([0, 2, 3, 9, 25, 27, 30, 31, 32, 36, 37, 40, 42, 45, 47, 50, 72, 82, 83]);
const ERROR_CODE_NAMES = utf8("other configuration-in-progress device-busy invalid-data-type operational-problem \
read-access-denied timeout unknown-object unknown-property unsupported-object-type value-out-of-range \
write-access-denied invalid-array-index optional-functionality-not-supported datatype-not-supported \
property-is-not-an-array value-not-initialized busy communication-disabled");

function lineErrorCode(code: u32): void {
  for (let i = 0; i < 19; i++) {
    if (<u32>load<u8>(ERROR_CODE_NUMBERS + <usize>i) == code) return lineListed(ERROR_CODE_NAMES, i);
  }
  lineUtf8(utf8("code "));
  lineNumber(<i32>code);
}
