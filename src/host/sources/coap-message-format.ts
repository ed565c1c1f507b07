/**
 * The message format of RFC 7252, section 3, checked strictly before coap-packet parses a datagram:
 * coap-packet 1.1 takes a token length of 9 to 15 (reserved: "MUST be processed as a message format
 * error"), an option whose value runs past the datagram (it hands over the bytes there are, so a
 * truncated Uri-Path can name another resource) and a payload marker with no payload after it
 * (a format error, 3). What this refuses is a format error; each option's number is returned so that
 * the server can refuse a critical one it does not understand (5.4.1) by number, named or not.
 */
export type CoapFormat = { readonly ok: true; readonly options: readonly number[] } | { readonly ok: false; readonly error: string };

export function checkCoapFormat(bytes: Uint8Array): CoapFormat {
  const fail = (error: string): CoapFormat => ({ ok: false, error });
  if (bytes.byteLength < 4) return fail('shorter than the 4-byte header');
  if (bytes[0]! >> 6 !== 1) return fail(`version ${bytes[0]! >> 6}`);
  const tkl = bytes[0]! & 0x0f;
  if (tkl > 8) return fail(`token length ${tkl} (9 to 15 are reserved)`);
  let at = 4 + tkl;
  if (at > bytes.byteLength) return fail('token past the end of the datagram');
  const code = bytes[1]!;
  if (code === 0 && bytes.byteLength > 4) return fail('an empty message (code 0.00) with bytes after its header');
  const options: number[] = [];
  let number = 0;
  while (at < bytes.byteLength) {
    const first = bytes[at++]!;
    if (first === 0xff) {
      if (at >= bytes.byteLength) return fail('a payload marker with no payload');
      return { ok: true, options };
    }
    const nibble = (n: number, what: string): number | string => {
      if (n < 13) return n;
      if (n === 15) return `option ${what} 15 (reserved)`;
      const extra = n === 13 ? 1 : 2;
      if (at + extra > bytes.byteLength) return `option ${what} past the end of the datagram`;
      const v = n === 13 ? bytes[at]! + 13 : ((bytes[at]! << 8) | bytes[at + 1]!) + 269;
      at += extra;
      return v;
    };
    const delta = nibble(first >> 4, 'delta');
    if (typeof delta === 'string') return fail(delta);
    const length = nibble(first & 0x0f, 'length');
    if (typeof length === 'string') return fail(length);
    number += delta;
    if (at + length > bytes.byteLength) return fail(`option ${number}'s value (${length} bytes) past the end of the datagram`);
    at += length;
    options.push(number);
  }
  return { ok: true, options };
}
