/**
 * ws:// uplinks publish. What broke: docs/config.md listed ws:// and wss:// and validate passed them,
 * but the MQTT sink refused them at run ("scheme ws: is not supported"). MQTT.js speaks MQTT over
 * WebSocket in Node, and a site whose firewall lets only HTTP(S) out needs it, so run supports them.
 *
 * The peer is aedes behind a `ws` WebSocket server on a loopback port the OS picks (Debian's
 * mosquitto 2.0.11 here cannot open a websockets listener); the subscriber connects over plain TCP
 * to the same broker, so the message crosses from one transport to the other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import { pino } from 'pino';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { MqttSink } from '../../src/host/sinks/mqtt.js';
import { subscribe } from '../support/mqtt-subscriber.js';

const STEP_MS = 10_000;

test('a ws:// uplink connects through a WebSocket and its messages reach a TCP subscriber', async () => {
  const broker = await Aedes.createBroker();
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/mqtt' });
  await once(wss, 'listening');
  wss.on('connection', (socket) => broker.handle(createWebSocketStream(socket) as never));
  const tcp: Server = createServer((socket) => broker.handle(socket)).listen(0, '127.0.0.1');
  await once(tcp, 'listening');
  const wsPort = (wss.address() as AddressInfo).port;
  const tcpPort = (tcp.address() as AddressInfo).port;

  const subscriber = await subscribe(`mqtt://127.0.0.1:${tcpPort}`, 'ws/#');
  const sink = new MqttSink(
    { name: 'cloud', url: `ws://127.0.0.1:${wsPort}/mqtt`, clientId: 'gw-ws', qos: 1, keepaliveMs: 30_000, reconnect: { minMs: 100, maxMs: 1000 } },
    pino({ level: 'silent' }),
  );
  try {
    sink.start();
    await sink.waitConnected(STEP_MS);
    await sink.publish('ws/boiler/temp', '21.5', { qos: 1 });
    const [message] = await subscriber.waitFor(1, STEP_MS);
    assert.equal(message!.topic, 'ws/boiler/temp');
    assert.equal(message!.payload.toString(), '21.5');
    assert.equal(sink.counters().acked, 1);
  } finally {
    await sink.close(1_000);
    await subscriber.close();
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
    await new Promise<void>((resolve) => broker.close(() => resolve()));
  }
});
