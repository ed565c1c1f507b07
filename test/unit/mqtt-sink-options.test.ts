// MqttSink construction: settings that cannot work are refused at load, naming the setting, and the
// reconnect back-off follows min * 2^attempts capped at max (checked against a port nobody listens on).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { pino } from 'pino';
import { MqttSink, type MqttSinkOptions } from '../../src/host/sinks/mqtt.js';
import { isWgError, type ErrorCode } from '../../src/host/errors.js';

const silent = pino({ level: 'silent' });
const base: MqttSinkOptions = {
  name: 'cloud',
  url: 'mqtt://127.0.0.1:1883',
  clientId: 'gw-1',
  qos: 1,
  keepaliveMs: 30_000,
  reconnect: { minMs: 500, maxMs: 30_000 },
};

const refusals: Array<[string, Partial<MqttSinkOptions>, ErrorCode, string]> = [
  ['a url that does not parse', { url: 'not a url' }, 'WG_ERR_CONFIG_INVALID', '"url"'],
  ['a scheme other than mqtt/mqtts', { url: 'http://broker:1883' }, 'WG_ERR_CONFIG_INVALID', 'http:'],
  ['tls with a plain url', { tls: { rejectUnauthorized: true } }, 'WG_ERR_CONFIG_CONFLICT', '"tls"'],
  ['a cert without its key', { url: 'mqtts://b:8883', tls: { cert: Buffer.from('x'), rejectUnauthorized: true } }, 'WG_ERR_CONFIG_CONFLICT', '"tls.key"'],
  ['a password without a username', { password: 'p' }, 'WG_ERR_CONFIG_CONFLICT', '"username"'],
  ['a keepalive beyond 65535 s', { keepaliveMs: 65_536_000 }, 'WG_ERR_CONFIG_INVALID', '"keepaliveMs"'],
  ['a zero reconnect minimum', { reconnect: { minMs: 0, maxMs: 10 } }, 'WG_ERR_CONFIG_INVALID', '"reconnect.minMs"'],
  ['a reconnect maximum below the minimum', { reconnect: { minMs: 1000, maxMs: 10 } }, 'WG_ERR_CONFIG_CONFLICT', '"reconnect.maxMs"'],
  ['a fractional offline queue limit', { offlineQueueLimit: 1.5 }, 'WG_ERR_CONFIG_INVALID', '"offlineQueueLimit"'],
  ['a session expiry with a clean session', { sessionExpiryMs: 60_000 }, 'WG_ERR_CONFIG_CONFLICT', '"cleanSession"'],
  ['a session expiry of part of a second', { cleanSession: false, sessionExpiryMs: 1_500 }, 'WG_ERR_CONFIG_INVALID', '"sessionExpiryMs"'],
  ['a message expiry of 0 s', { messageExpiryMs: 0 }, 'WG_ERR_CONFIG_INVALID', '"messageExpiryMs"'],
  ['a message expiry past 4294967294 s', { messageExpiryMs: 4_294_967_295_000 }, 'WG_ERR_CONFIG_INVALID', '"messageExpiryMs"'],
  ['a status topic with a wildcard', { status: { topic: 'gw/+/status', online: 'on', offline: 'off', stopped: 'off' } }, 'WG_ERR_CONFIG_INVALID', '"status.topic"'],
];

for (const [what, change, code, named] of refusals) {
  test(`MqttSink refuses ${what} with ${code}`, () => {
    assert.throws(
      () => new MqttSink({ ...base, ...change }, silent),
      (e) => isWgError(e, code) && e.context.uplink === 'cloud' && e.message.includes(named),
    );
  });
}

test('MqttSink accepts mqtts with a client certificate and key', () => {
  const tls = { ca: Buffer.from('ca'), cert: Buffer.from('c'), key: Buffer.from('k'), rejectUnauthorized: true };
  const sink = new MqttSink({ ...base, url: 'mqtts://broker:8883', tls }, silent);
  assert.equal(sink.state, 'offline');
});

test('reconnect back-off doubles from minMs at each attempt and stops at maxMs', async () => {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));

  const sink = new MqttSink({ ...base, url: `mqtt://127.0.0.1:${port}`, reconnect: { minMs: 5, maxMs: 40 } }, silent);
  assert.equal(sink.reconnectDelayMs, 5);
  sink.start();
  const seen = new Map<number, number>();
  const deadline = Date.now() + 10_000;
  while (sink.counters().reconnects < 6) {
    assert.ok(Date.now() < deadline, 'the sink keeps retrying');
    seen.set(sink.counters().reconnects, sink.reconnectDelayMs);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await sink.close(1_000);
  // min * 2^attempts, capped: 5, 10, 20, 40, 40, 40
  const expected = new Map([[0, 5], [1, 10], [2, 20], [3, 40], [4, 40], [5, 40]]);
  for (const [attempts, delay] of seen) assert.equal(delay, expected.get(attempts), `after ${attempts} attempts`);
  assert.equal(seen.get(0), 5);
  assert.ok([...seen.values()].includes(40), 'the ceiling was reached');
  assert.equal(sink.state, 'closed');
});
