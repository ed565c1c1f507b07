// The MQTT sink against real brokers: the sink contract on Debian's mosquitto and on embedded aedes,
// an interop check with Debian's mosquitto_sub as the subscriber, and the demo's embedded broker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { MqttSink, type MqttSinkOptions } from '../../src/host/sinks/mqtt.js';
import { startEmbeddedBroker } from '../../src/host/sinks/embedded-broker.js';
import { isWgError } from '../../src/host/errors.js';
import { describeSinkContract, type SinkUnderTest } from '../sinks/sink.contract.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { startAedes } from '../support/aedes.js';
import { subscribe } from '../support/mqtt-subscriber.js';
import { findTool, needs } from '../support/tools.js';
import type { TestBroker } from '../support/test-broker.js';

const silent = pino({ level: 'silent' });
const STEP_MS = 10_000;

function makeSink(broker: TestBroker, sink: SinkUnderTest, protocol: MqttSinkOptions['protocol'] = 'auto'): MqttSink {
  return new MqttSink(
    {
      name: sink.name,
      url: broker.url,
      clientId: `wasmgate-${randomUUID().slice(0, 8)}`,
      username: sink.username,
      password: sink.password,
      qos: 1,
      keepaliveMs: 30_000,
      reconnect: { minMs: 20, maxMs: 200 },
      connectTimeoutMs: 5_000,
      protocol,
    },
    silent,
  );
}

// protocol auto: MQTT 5 with mosquitto, 3.1.1 with aedes (which speaks only that); 3.1.1 on mosquitto too.
describeSinkContract(
  'mqtt on mosquitto',
  { startBroker: startMosquitto, makeSink, keepsOrderAcrossQos: true },
  needs('mosquitto', !!mosquittoPath()),
);
describeSinkContract(
  'mqtt 3.1.1 on mosquitto',
  { startBroker: startMosquitto, makeSink: (broker, sink) => makeSink(broker, sink, '3.1.1'), keepsOrderAcrossQos: true },
  needs('mosquitto', !!mosquittoPath()),
);
// aedes stores an incoming QoS 1 message before forwarding it, so a QoS 0 message behind it can overtake.
describeSinkContract('mqtt on aedes', { startBroker: startAedes, makeSink, keepsOrderAcrossQos: false });

/** Runs mosquitto_sub until it printed `count` messages; resolves with its stdout lines once subscribed. */
function mosquittoSub(port: number, topic: string, count: number) {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-t', topic, '-C', String(count), '-v', '-d', '-q', '1'];
  // mosquitto_sub block-buffers a piped stdout; line buffering lets us see its SUBACK as it happens
  const child = spawn(findTool('stdbuf') as string, ['-oL', findTool('mosquitto_sub') as string, ...args]);
  let out = '';
  let wake: (() => void) | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    wake?.();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const subscribed = new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`mosquitto_sub did not subscribe:\n${out}`)), STEP_MS);
    wake = () => {
      // -d prints the SUBACK; only after it can a publish not be missed
      if (out.includes('received SUBACK')) {
        clearTimeout(deadline);
        wake = undefined;
        resolve();
      }
    };
  });
  return {
    subscribed,
    /** The `topic payload` lines -v printed, without -d's protocol chatter. */
    async messages(): Promise<string[]> {
      // Bounded: a message that never arrives must fail the test with what was seen, not hang it.
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([exited, new Promise<'timed out'>((resolve) => { timer = setTimeout(() => resolve('timed out'), STEP_MS); })]);
      clearTimeout(timer);
      assert.equal(code, 0, `mosquitto_sub: ${code === 'timed out' ? `not all messages within ${STEP_MS} ms` : `exited with ${code}`}:\n${out}`);
      const prefix = topic.replace(/#$/, '');
      return out.split('\n').filter((line) => line.startsWith(prefix));
    },
    kill: () => child.kill(),
  };
}

for (const [kind, startBroker] of [['mosquitto', startMosquitto], ['aedes', startAedes]] as const) {
  const gate = kind === 'mosquitto' ? needs('mosquitto', !!mosquittoPath()) : {};
  const subGate = needs('mosquitto_sub and stdbuf', !!findTool('mosquitto_sub') && !!findTool('stdbuf'));
  test(`interop: mosquitto_sub sees exactly what the sink published through ${kind}`, { ...gate, ...subGate }, async () => {
    const broker = await startBroker({});
    const sink = makeSink(broker, { name: 'cloud' });
    const root = `wasmgate-test/${randomUUID().slice(0, 8)}`;
    const sub = mosquittoSub(broker.port, `${root}/#`, 3);
    try {
      await sub.subscribed;
      sink.start();
      await sink.waitConnected(STEP_MS);
      await sink.publish(`${root}/boiler/temp`, '21.5', { qos: 1 });
      await sink.publish(`${root}/boiler/state`, 'on', { qos: 0 });
      await sink.publish(`${root}/boiler/json`, '{"p":1013}', { qos: 1 });
      assert.deepEqual(await sub.messages(), [
        `${root}/boiler/temp 21.5`,
        `${root}/boiler/state on`,
        `${root}/boiler/json {"p":1013}`,
      ]);
    } finally {
      sub.kill();
      await sink.close(1_000);
      await broker.dispose();
    }
  });
}

test('embedded broker: a sink publishes through it on an OS-picked port, and close() frees the port', async () => {
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
  assert.ok(broker.port > 0);
  const url = `mqtt://127.0.0.1:${broker.port}`;
  const sub = await subscribe(url, 'demo/#');
  const sink = new MqttSink(
    { name: 'demo', url, clientId: 'demo-gw', qos: 1, keepaliveMs: 30_000, reconnect: { minMs: 20, maxMs: 200 } },
    silent,
  );
  try {
    sink.start();
    await sink.waitConnected(STEP_MS);
    await sink.publish('demo/line1/speed', '1200');
    const [message] = await sub.waitFor(1, STEP_MS);
    assert.equal(message?.topic, 'demo/line1/speed');
    assert.equal(message?.payload.toString(), '1200');
  } finally {
    await sub.close();
    await sink.close(1_000);
    await broker.close();
    await broker.close(); // idempotent
  }
  // Closed for real: the same port can be bound again.
  const again = await startEmbeddedBroker({ host: '127.0.0.1', port: broker.port });
  await again.close();
});

test('embedded broker: a port already in use fails with WG_ERR_UPLINK_BROKER_LISTEN', async () => {
  const first = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
  try {
    await assert.rejects(startEmbeddedBroker({ host: '127.0.0.1', port: first.port }), (e) =>
      isWgError(e, 'WG_ERR_UPLINK_BROKER_LISTEN'),
    );
  } finally {
    await first.close();
  }
});
