/**
 * What a BACnet device says when it will not answer (ASHRAE 135, clause 21: BACnetErrorClass,
 * BACnetErrorCode, BACnetRejectReason, BACnetAbortReason), named for the scan's report; numbers
 * without a name here are written as numbers.
 */
const ERROR_CLASSES = ['device', 'object', 'property', 'resources', 'security', 'services', 'vt', 'communication'];
const ERROR_CODES: Record<number, string> = {
  0: 'other', 2: 'configuration-in-progress', 3: 'device-busy', 9: 'invalid-data-type', 25: 'operational-problem',
  27: 'read-access-denied', 31: 'unknown-object', 32: 'unknown-property', 42: 'invalid-array-index', 50: 'property-is-not-an-array',
};
const REJECT_REASONS = ['other', 'buffer-overflow', 'inconsistent-parameters', 'invalid-parameter-data-type', 'invalid-tag',
  'missing-required-parameter', 'parameter-out-of-range', 'too-many-arguments', 'undefined-enumeration', 'unrecognized-service'];
const ABORT_REASONS = ['other', 'buffer-overflow', 'invalid-apdu-in-this-state', 'preempted-by-higher-priority-task',
  'segmentation-not-supported', 'security-error', 'insufficient-security', 'window-size-out-of-range',
  'application-exceeded-reply-time', 'out-of-resources', 'tsm-timeout', 'apdu-too-long'];


export function errorText(errorClass: number, errorCode: number): string {
  return `${ERROR_CLASSES[errorClass] ?? `class ${errorClass}`} ${ERROR_CODES[errorCode] ?? `code ${errorCode}`}`;
}

export function rejectText(reason: number): string {
  return REJECT_REASONS[reason] ?? `reason ${reason}`;
}

export function abortText(reason: number): string {
  return ABORT_REASONS[reason] ?? `reason ${reason}`;
}
