/**
 * CoAP Content-Format numbers (RFC 7252, 12.3, and the IANA registry's entries a field device sends)
 * and the media type names the config and the pushed frame record use for them.
 */
export const COAP_MEDIA_TYPES: Readonly<Record<number, string>> = {
  0: 'text/plain',
  40: 'application/link-format',
  41: 'application/xml',
  42: 'application/octet-stream',
  47: 'application/exi',
  50: 'application/json',
  60: 'application/cbor',
  110: 'application/senml+json',
  112: 'application/senml+cbor',
};

export const COAP_MEDIA_TYPE_NAMES: readonly string[] = Object.values(COAP_MEDIA_TYPES);

/** The name of Content-Format `format`; `format/N` for a number without one here. */
export function mediaTypeOf(format: number): string {
  return COAP_MEDIA_TYPES[format] ?? `format/${format}`;
}
