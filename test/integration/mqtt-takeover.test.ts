// Regression, issue 6: two gateways with the same MQTT client id knocked each other off the broker
// every second, and all either said was "connection lost". Now each detects the takeover, says so once
// per episode naming the client id, and backs off so the two stop ping-ponging. Real mosquitto (MQTT
// 3.1.1: the broker just closes the old connection, no reason given), two real sinks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { MqttSink } from '../../src/host/sinks/mqtt.js';
import { startMosquitto, mosquittoPath } from '../support/mosquitto.js';
import { needs } from '../support/tools.js';
import { waitFor } from '../support/wait.js';
import type { TestBroker } from '../support/test-broker.js';

type Line = Record<string, unknown> & { msg: string };
const RECONNECT = { minMs: 50, maxMs: 400 };

function capturingSink(broker: TestBroker, name: string, clientId: string): { sink: MqttSink; lines: Line[] } {
  const lines: Line[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split('\n')) if (text) lines.push(JSON.parse(text) as Line);
      done();
    },
  });
  const sink = new MqttSink({ name, url: broker.url, clientId, qos: 1, keepaliveMs: 30_000, reconnect: RECONNECT, connectTimeoutMs: 5_000 }, pino({ level: 'info' }, stream));
  return { sink, lines };
}

const takeovers = (lines: Line[]) => lines.filter((l) => l.code === 'WG_ERR_UPLINK_TAKEOVER');
const connects = (lines: Line[]) => lines.filter((l) => l.msg === 'mqtt uplink connected').length;

test('two gateways with one client id: the takeover is said once, naming the id, and they back off', needs('mosquitto', !!mosquittoPath()), async () => {
  const broker = await startMosquitto();
  const a = capturingSink(broker, 'cloud-a', 'gw-shared');
  const b = capturingSink(broker, 'cloud-b', 'gw-shared');
  try {
    a.sink.start();
    await a.sink.waitConnected(10_000);
    b.sink.start();
    await waitFor(() => takeovers(a.lines).length > 0 && takeovers(b.lines).length > 0, 20_000, () => 'both sides detecting the takeover');
    for (const { lines, sink } of [a, b]) {
      const [report] = takeovers(lines);
      assert.equal(report!.level, 50);
      assert.equal(report!.clientId, 'gw-shared');
      assert.match(report!.msg, new RegExp(`^uplink ${sink.name}: another client with client id "gw-shared" keeps taking over the session`));
      assert.equal(sink.lastError?.code, 'WG_ERR_UPLINK_TAKEOVER', 'the status says it too');
    }

    // A window of 40 knock-offs at the minimum delay (40 x 50 ms). Without back-off the two would
    // connect about 40 times in it; backing off to 400 ms they connect at most 2000/400 + 4 times each.
    const before = connects(a.lines) + connects(b.lines);
    const end = Date.now() + 40 * RECONNECT.minMs;
    await waitFor(() => Date.now() >= end, 10_000);
    const inWindow = connects(a.lines) + connects(b.lines) - before;
    assert.ok(inWindow <= 2 * (40 * RECONNECT.minMs / RECONNECT.maxMs + 4), `${inWindow} connections in the window`);
    for (const { lines } of [a, b]) {
      assert.equal(takeovers(lines).length, 1, 'said once per episode');
      const lost = lines.filter((l) => l.msg === 'mqtt uplink connection lost').length;
      assert.ok(lost <= 3, `${lost} "connection lost" warnings: only those before the pattern was clear`);
    }
  } finally {
    await a.sink.close(1_000);
    await b.sink.close(1_000);
    await broker.dispose();
  }
});

// A broker restart closes the connection the same way and may accept the reconnection at once; what
// tells it from a takeover is that the new connection then stays up (here: past 2 x reconnect.max).
test('broker restarts are not a takeover, once each new connection stays up', needs('mosquitto', !!mosquittoPath()), async () => {
  const broker = await startMosquitto();
  const a = capturingSink(broker, 'cloud', 'gw-alone');
  try {
    a.sink.start();
    await a.sink.waitConnected(10_000);
    for (let i = 0; i < 4; i++) {
      const seen = connects(a.lines);
      const upUntil = Date.now() + 2 * RECONNECT.maxMs + 100;
      await waitFor(() => Date.now() >= upUntil, 10_000);
      await broker.stop();
      await broker.start();
      await waitFor(() => connects(a.lines) > seen, 10_000, () => `reconnect after restart ${i + 1}`);
    }
    assert.deepEqual(takeovers(a.lines), []);
  } finally {
    await a.sink.close(1_000);
    await broker.dispose();
  }
});
