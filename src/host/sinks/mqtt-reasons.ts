/**
 * Why a broker (or the TLS layer under it) refused the MQTT sink, in words an operator can act on:
 * the certificate problem and which setting to look at, the CONNACK or PUBACK reason code with its
 * number, and whether a refused message may ever be accepted if sent again.
 *
 * MQTT.js reports a refusal as an Error whose numeric `code` is the reason code (MQTT 5) or return
 * code (3.1.1); a TLS failure comes as Node's Error with OpenSSL's code string.
 */

/** MQTT 5 §2.4 reason codes as MQTT.js names them; 3.1.1 return codes 1 to 5 share the table. */
const REASONS: Readonly<Record<number, string>> = {
  1: 'unacceptable protocol version', 2: 'identifier rejected', 3: 'server unavailable', 4: 'bad user name or password', 5: 'not authorized',
  0x80: 'unspecified error', 0x81: 'malformed packet', 0x82: 'protocol error', 0x83: 'implementation specific error',
  0x84: 'unsupported protocol version', 0x85: 'client identifier not valid', 0x86: 'bad user name or password', 0x87: 'not authorized',
  0x88: 'server unavailable', 0x89: 'server busy', 0x8a: 'banned', 0x8b: 'server shutting down', 0x8c: 'bad authentication method',
  0x8d: 'keep alive timeout', 0x8e: 'session taken over', 0x90: 'topic name invalid', 0x91: 'packet identifier in use',
  0x93: 'receive maximum exceeded', 0x94: 'topic alias invalid', 0x95: 'packet too large', 0x96: 'message rate too high',
  0x97: 'quota exceeded', 0x98: 'administrative action', 0x99: 'payload format invalid', 0x9a: 'retain not supported',
  0x9b: 'QoS not supported', 0x9c: 'use another server', 0x9d: 'server moved', 0x9f: 'connection rate exceeded',
  0xa0: 'maximum connect time',
};

/** Reason codes of a PUBACK that say "not now" rather than "never": the same message may pass later. */
const PASSING_PUBLISH_REFUSALS = new Set([0x91, 0x96, 0x97]); // packet id in use, rate too high, quota exceeded

/** CONNACK codes that mean the broker does not speak the protocol version we asked for. */
const VERSION_REFUSALS = new Set([1, 0x84]);

const hex = (code: number) => `0x${code.toString(16).padStart(2, '0')}`;

/** "not authorized (reason code 0x87)" */
export function describeReason(code: number, packet: 'CONNACK' | 'PUBACK' | 'DISCONNECT'): string {
  return `${REASONS[code] ?? 'unknown reason'} (${packet} reason code ${hex(code)})`;
}

export function refusesProtocolVersion(error: { code?: unknown }): boolean {
  return typeof error.code === 'number' && VERSION_REFUSALS.has(error.code);
}

/** A PUBACK code at or above 0x80 refuses the message; all but the passing ones refuse it for good. */
export function refusedForGood(code: number): boolean {
  return code >= 0x80 && !PASSING_PUBLISH_REFUSALS.has(code);
}

/** OpenSSL's verification results on the broker's certificate (Node's `err.code`). */
const SERVER_CERTIFICATE_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_SIGNATURE_FAILURE', 'CERT_NOT_YET_VALID', 'CERT_HAS_EXPIRED', 'CERT_UNTRUSTED',
  'CERT_REJECTED', 'INVALID_CA', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** TLS alerts the broker sends when it refuses our client certificate, and what each means here. */
const CLIENT_CERTIFICATE_ALERTS: Readonly<Record<string, string>> = {
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'the broker requires a client certificate and none was sent: set tls.cert and tls.key (TLS alert "certificate required")',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'the broker refused the client certificate (tls.cert): it does not trust the CA that signed it (TLS alert "unknown ca")',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'the broker refused the client certificate (tls.cert) (TLS alert "bad certificate")',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: 'the broker refused the client certificate (tls.cert): it has expired (TLS alert "certificate expired")',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED: 'the broker refused the client certificate (tls.cert): it was revoked (TLS alert "certificate revoked")',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: 'the broker refused the client certificate (tls.cert) (TLS alert "certificate unknown")',
  ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE: 'the broker refused the client certificate (tls.cert): unsupported type (TLS alert "unsupported certificate")',
  ERR_SSL_TLSV1_ALERT_ACCESS_DENIED: 'the broker refused the client certificate (tls.cert): access denied (TLS alert "access denied")',
  ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR: 'the broker could not verify the client certificate\'s signature: does tls.key belong to tls.cert? (TLS alert "decrypt error")',
};

/**
 * The detail of a WG_ERR_UPLINK_CONNECT for `error`: what went wrong and where to look. Unknown
 * errors keep their own message.
 */
export function describeConnectError(error: Error & { code?: unknown }): string {
  const { code } = error;
  if (typeof code === 'number') return `the broker refused the connection: ${describeReason(code, 'CONNACK')}`;
  if (typeof code === 'string' && SERVER_CERTIFICATE_CODES.has(code)) {
    return `TLS: the broker's certificate does not verify: ${error.message} (${code}); tls.ca must name the CA that signed it`;
  }
  if (typeof code === 'string' && code in CLIENT_CERTIFICATE_ALERTS) return `TLS: ${CLIENT_CERTIFICATE_ALERTS[code]!}`;
  return error.message;
}

/** Whether `error` ends every attempt the same way until someone changes a certificate or the broker. */
export function isTlsRefusal(error: { code?: unknown }): boolean {
  return typeof error.code === 'string' && (SERVER_CERTIFICATE_CODES.has(error.code) || error.code in CLIENT_CERTIFICATE_ALERTS);
}
