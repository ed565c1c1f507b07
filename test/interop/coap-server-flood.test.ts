// A CoAP flood against the real daemon (`wasmgate run` in a child process) that also polls a Modbus
// PLC in another pipeline: 100 senders (each its own address:port) send POSTs of near-max bodies far
// over the coap_server's rate, with some to an unknown path and some past max_body. What must hold:
// the server takes at most what its token bucket allows (burst + rate x time, arithmetic from the
// settings), refuses the rest by reason (counted in status), every body it took is published, the
// daemon's resident memory stays within a bound far below what the flood carried, and the Modbus
// device keeps its rate (ten readings take less than three times as long as before the flood: a ratio
// within one run, as bacnet-faults.test.ts does).
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startMosquitto, mosquittoPath } from '../support/mosquitto.js';
import { startAedes } from '../support/aedes.js';
import type { TestBroker } from '../support/test-broker.js';
import { subscribe, type TestSubscriber } from '../support/mqtt-subscriber.js';
import { gatewayYaml, writeGatewayFixture, type GatewayFixture } from '../support/gateway-fixture.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { countingPipeline, startCountingPlc, type CountingPlc } from '../support/counting-plc.js';
import { startFlood } from '../support/coap-flood.js';
import { runWasmgate } from '../support/wasmgate-cli.js';
import type { ControlStatus } from '../../src/host/control/gateway-control.js';

const RATE = 200;
const BURST = 100;
const MAX_BODY = 1024;

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const { port } = socket.address();
  socket.close();
  return port;
}

function roomsYaml(port: number): string {
  return `pipeline: { name: rooms }
source:
  coap_server:
    bind: 127.0.0.1
    port: ${port}
    rate: ${RATE}
    burst: ${BURST}
    queue: 64
    max_body: ${MAX_BODY}
    devices:
      - name: room1
        resource: rooms/1
        points: [ { name: temp } ]
steps:
  - plugin: payload
  - plugin: json
publish: { uplink: cloud, topic: "rooms/{device}/{point}", qos: 0 }
`;
}

let broker: TestBroker;
let plc: CountingPlc;
let fixture: GatewayFixture;
let daemon: GatewayProcess;
let subscriber: TestSubscriber;
let port: number;

before(async () => {
  broker = mosquittoPath() ? await startMosquitto() : await startAedes();
  plc = await startCountingPlc();
  port = await freeUdpPort();
  fixture = await writeGatewayFixture(gatewayYaml(broker.url, 'gw-flood', { logLevel: 'info', pipelines: ['./plant.yaml', './rooms.yaml'] }), '');
  await writeFile(join(fixture.dir, 'plant.yaml'), countingPipeline(plc.port, 100));
  await writeFile(join(fixture.dir, 'rooms.yaml'), roomsYaml(port));
  subscriber = await subscribe(broker.url, '#', { qos: 0 });
  daemon = startGatewayProcess(fixture.gatewayFile);
  await daemon.waitForLine((l) => l.includes('"gateway started"'), 'gateway started', 30_000);
});

after(async () => {
  await daemon?.stop();
  await subscriber?.close();
  await plc?.close();
  await fixture?.dispose();
  await broker?.dispose();
});

async function status(): Promise<ControlStatus> {
  const run = await runWasmgate(['status', '--config', fixture.gatewayFile, '--json']);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as ControlStatus;
}

test('a flood far over the rate: bounded by the bucket, refusals counted, RSS bounded, every accepted body published, the Modbus device at its rate', async () => {
  const plant = () => subscriber.messages.filter((m) => m.topic === 'plant/polls').length;
  const rooms = () => subscriber.messages.filter((m) => m.topic === 'rooms/room1/temp').length;
  const timeFor = async (n: number): Promise<number> => {
    const from = plant();
    const start = performance.now();
    await subscriber.waitUntil(() => plant() >= from + n, `${n} more plant readings`, 30_000);
    return performance.now() - start;
  };
  await subscriber.waitUntil(() => plant() >= 5, 'the plant polled', 20_000);
  const beforeMs = await timeFor(10);
  const rssBefore = daemon.rssBytes();

  const flood = await startFlood('127.0.0.1', port, 100);
  const body = (i: number) => new TextEncoder().encode(`{"temp": ${i}, "pad": "${'x'.repeat(MAX_BODY - 40)}"}`);
  let floodMs = 0;
  let sent = 0;
  let rssPeak = rssBefore;
  let flooding = true;
  const floodDone = (async () => {
    // At least 50 000 requests (about 50 MiB of bodies), and for as long as the plant's ten readings take.
    while (flooding || sent < 50_000) {
      const r = await flood.run(20, (i) => (i % 20 === 0 ? { path: ['nowhere'], payload: body(i), format: 50 }
        : i % 20 === 1 ? { path: ['rooms', '1'], payload: new Uint8Array(MAX_BODY + 200), format: 50 }
        : { path: ['rooms', '1'], payload: body(i), format: 50 }));
      sent += r.sent;
      floodMs += r.elapsedMs;
      rssPeak = Math.max(rssPeak, daemon.rssBytes());
    }
  })();
  const duringMs = await timeFor(10);
  flooding = false;
  await floodDone;
  await new Promise((resolve) => setTimeout(resolve, 500)); // the last answers and the last batch
  const s = await status();
  const source = s.pipelines.find((p) => p.name === 'rooms')!.pushSources[0]!;
  const device = s.pipelines.find((p) => p.name === 'plant')!.devices[0]!;
  await flood.close();

  const bytesSent = sent * MAX_BODY;
  const refused = Object.values(source.refused).reduce((a, b) => a + b, 0);
  // The bucket: at most `burst` at once plus `rate` a second over the flood (and the half second after it, and a second of slack for the start).
  const allowed = BURST + RATE * ((floodMs + 500) / 1000 + 1);
  assert.ok(source.accepted <= allowed, `accepted ${source.accepted}, the bucket allows ${allowed.toFixed(0)} over ${floodMs.toFixed(0)} ms`);
  assert.ok(source.accepted > 0 && source.refused.rate > 0, JSON.stringify(source));
  assert.ok(source.refused.unknown_resource > 0 && source.refused.too_large > 0, JSON.stringify(source.refused));
  assert.ok(source.accepted + refused <= sent, `${source.accepted} accepted and ${refused} refused of ${sent} sent`);
  assert.equal(source.waiting, 0);
  // Every body taken is a reading at the subscriber.
  await subscriber.waitUntil(() => rooms() >= source.accepted, 'every accepted body published', 20_000);
  assert.equal(rooms(), source.accepted);
  // Memory: the flood carried ${bytesSent} bytes; the daemon's RSS grows by far less.
  const growth = rssPeak - rssBefore;
  assert.ok(bytesSent > 40 * 2 ** 20, `the flood carried ${(bytesSent / 2 ** 20).toFixed(0)} MiB`);
  assert.ok(growth < 24 * 2 ** 20, `RSS grew by ${(growth / 2 ** 20).toFixed(1)} MiB during a flood of ${(bytesSent / 2 ** 20).toFixed(0)} MiB (before ${(rssBefore / 2 ** 20).toFixed(0)} MiB)`);
  // The Modbus device in the other pipeline keeps its rate.
  assert.ok(duringMs < beforeMs * 3, `ten plant readings took ${duringMs.toFixed(0)} ms during the flood, ${beforeMs.toFixed(0)} ms before`);
  assert.equal(device.timeouts, 0);
  // Refusals are logged, summarised: far fewer lines than refusals.
  const refusedLines = daemon.lines.filter((l) => l.includes('"event":"push.refused"'));
  assert.ok(refusedLines.length >= 3 && refusedLines.length < 50, `${refusedLines.length} push.refused lines for ${refused} refusals`);
});
