/**
 * An MQTT uplink built the way the daemon builds it: a gateway file with the test's `mqtt:` lines is
 * loaded by the real config loader, and the uplink kind makes the sink from what it resolved. Tests of
 * TLS, credentials and MQTT 5 settings go through here, so that what the file says is what goes on the wire.
 */
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import type { ResolvedMqttUplink } from '../../src/host/config/resolved.js';
import { mqttUplink } from '../../src/host/uplinks/mqtt-uplink.js';
import type { MqttSink } from '../../src/host/sinks/mqtt.js';
import { writeGatewayFixture } from './gateway-fixture.js';

const silent = pino({ level: 'silent' });

const PIPELINE = `pipeline: { name: plant }
source:
  modbus_tcp:
    devices:
      - { name: plc, host: 127.0.0.1, port: 1, points: [{ name: level, function: 3, address: 0, type: uint16 }] }
steps:
  - plugin: modbus
  - plugin: json
publish: { uplink: cloud, topic: "plant/{point}" }
`;

/** Loads a gateway file whose uplink `cloud` has these `mqtt:` lines (indent by six spaces) and resolves it. */
export async function resolveMqttUplink(mqttLines: readonly string[], gatewayId = 'gw-test'): Promise<ResolvedMqttUplink> {
  const gateway = `gateway:
  id: ${gatewayId}
  data_dir: ./data
uplinks:
  cloud:
    mqtt:
${mqttLines.map((l) => `${l}\n`).join('')}pipelines: [ ./pipeline.yaml ]
`;
  const fixture = await writeGatewayFixture(gateway, PIPELINE);
  try {
    const result = await loadGatewayConfig(fixture.gatewayFile);
    assert.ok(result.ok, result.ok ? '' : result.problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`).join('\n'));
    const [uplink] = result.config.uplinks;
    assert.ok(uplink?.transport === 'mqtt');
    return uplink;
  } finally {
    await fixture.dispose();
  }
}

/** The sink the daemon would run for these `mqtt:` lines, not started. */
export async function mqttSinkFor(mqttLines: readonly string[], gatewayId?: string): Promise<MqttSink> {
  const uplink = await resolveMqttUplink(mqttLines, gatewayId);
  return (await mqttUplink.sink(uplink, silent)) as MqttSink;
}
