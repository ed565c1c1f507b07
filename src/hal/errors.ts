/**
 * The HAL's error codes (their meaning for callers is the table in transport.ts). They are part of the
 * one registry, `ERROR_CODES` in src/host/errors.ts, which includes them, and are documented in
 * docs/errors.md like every other code; they live here so that the HAL needs nothing from the host.
 */
import { CodedError, type CodeSpec, type ErrorContext } from '../errors.js';

export const HAL_ERROR_CODES = {
  WG_ERR_HAL_CLOSED: { message: 'transport closed by us' },
  WG_ERR_HAL_LINK_LOST: { message: 'link to {device} lost: {detail}' },
  WG_ERR_HAL_CONNECT: { message: 'cannot connect to {device}: {detail}' },
  WG_ERR_HAL_TIMEOUT: { message: 'no answer from {device} within {detail}' },
  WG_ERR_HAL_RX_OVERFLOW: { message: 'device {device} sent more than the link holds ({detail}) without being asked; link closed' },
  WG_ERR_HAL_SEND: { message: 'cannot send a datagram to {device}: {detail}' },
} as const satisfies Record<string, CodeSpec>;

export type HalErrorCode = keyof typeof HAL_ERROR_CODES;

/** An error a transport raises; `isWgError` in the host recognises it like any other wasmgate error. */
export class HalError extends CodedError<HalErrorCode> {
  constructor(code: HalErrorCode, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(code, HAL_ERROR_CODES[code], context, options);
  }
}
