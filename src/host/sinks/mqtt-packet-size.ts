/**
 * The size of a PUBLISH packet on the wire (MQTT 3.1.1 §3.3, MQTT 5 §3.3), so that a message larger
 * than what an MQTT 5 broker announced it accepts (CONNACK Maximum Packet Size) is refused for good
 * before it is sent: a broker disconnects a client that sends one, and MQTT.js would send it again on
 * every reconnect.
 */

/** Bytes of a Variable Byte Integer holding `n` (1 to 4). */
function varintBytes(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}

export interface PublishShape {
  readonly topic: string;
  readonly payloadBytes: number;
  readonly qos: 0 | 1;
  /** MQTT 5 has a property length (0 when there are none); 3.1.1 has none at all. */
  readonly v5: boolean;
  readonly properties?: { readonly messageExpiryInterval?: number; readonly userProperties?: Readonly<Record<string, string | string[]>> };
}

export function publishPacketBytes(p: PublishShape): number {
  let propertyBytes = 0;
  if (p.properties) {
    if (p.properties.messageExpiryInterval !== undefined) propertyBytes += 1 + 4;
    for (const [key, values] of Object.entries(p.properties.userProperties ?? {})) {
      for (const value of [values].flat()) propertyBytes += 1 + 2 + Buffer.byteLength(key) + 2 + Buffer.byteLength(value);
    }
  }
  const remaining = 2 + Buffer.byteLength(p.topic) + (p.qos > 0 ? 2 : 0) + (p.v5 ? varintBytes(propertyBytes) + propertyBytes : 0) + p.payloadBytes;
  return 1 + varintBytes(remaining) + remaining;
}
