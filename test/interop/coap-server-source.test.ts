// The coap_server source with a real peer: Debian's libcoap `coap-client-notls` (not our code) POSTs
// and PUTs, Confirmable and Non-confirmable, JSON and CBOR, to a running gateway (coap_server →
// payload → json) that publishes to mosquitto, where a subscriber checks every value. Expected values
// are the bodies' own (CBOR bytes from RFC 8949 Appendix A: f93e00 is 1.5, fbc010666666666666 -4.1,
// 1819 25). Then what it refuses, each with the answer RFC 7252 / RFC 7959 give it, counted and
// logged with the sender: an unknown path, a GET, a body past max_body (whole and by Block1), a
// Block1 "offset bomb" (libcoap's `-b NUM,size` starts a transfer at block NUM), a Content-Format not
// taken, a body the decoder cannot read (answered 2.04, counted by the decoder, the gateway going on).
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import { Gateway } from '../../src/host/gateway.js';
import { CoapServerListener } from '../../src/host/sources/coap-server-listener.js';
import type { PushedFrame } from '../../src/host/sources/push-source.js';
import { startMosquitto, mosquittoPath } from '../support/mosquitto.js';
import { startAedes } from '../support/aedes.js';
import type { TestBroker } from '../support/test-broker.js';
import { subscribe, type TestSubscriber } from '../support/mqtt-subscriber.js';
import { gatewayYaml, writeGatewayFixture, type GatewayFixture } from '../support/gateway-fixture.js';
import { coapClient, findCoapClient } from '../support/coap-client.js';
import { needs } from '../support/tools.js';
import { waitFor } from '../support/wait.js';

const gate = needs('libcoap3-bin', findCoapClient());

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const { port } = socket.address();
  socket.close();
  return port;
}

function pipelineYaml(port: number): string {
  return `pipeline:
  name: rooms
  batch: { max_records: 64, deadline: 500ms }
source:
  coap_server:
    bind: 127.0.0.1
    port: ${port}
    max_body: 256
    devices:
      - name: room1
        resource: rooms/1
        points:
          - { name: temp, resource: rooms/1/temp, unit: degC }
          - { name: hum, unit: percent }
steps:
  - plugin: payload
  - plugin: json
    with: { shape: sample, timestamp: epoch_ms }
publish:
  uplink: cloud
  topic: "push/{gateway}/{device}/{point}"
  qos: 1
`;
}

type Line = Record<string, unknown> & { msg: string };

let broker: TestBroker;
let fixture: GatewayFixture;
let gateway: Gateway;
let subscriber: TestSubscriber;
let port: number;
const lines: Line[] = [];

before(async () => {
  if (gate.skip) return;
  broker = mosquittoPath() ? await startMosquitto() : await startAedes();
  port = await freeUdpPort();
  fixture = await writeGatewayFixture(gatewayYaml(broker.url), pipelineYaml(port));
  const loaded = await loadGatewayConfig(fixture.gatewayFile);
  assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.problems));
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split('\n')) if (text) lines.push(JSON.parse(text) as Line);
      done();
    },
  });
  subscriber = await subscribe(broker.url, 'push/#');
  gateway = await Gateway.start(loaded.config, { logger: pino({ level: 'info' }, sink), statusIntervalMs: 0 });
});

after(async () => {
  await gateway?.stop();
  await subscriber?.close();
  await fixture?.dispose();
  await broker?.dispose();
});

const url = (path: string) => `coap://127.0.0.1:${port}${path}`;
const readings = (point: string) => subscriber.messages.filter((m) => m.topic === `push/gw-test/room1/${point}`).map((m) => JSON.parse(m.payload.toString()) as { value: unknown; quality: string; ts: number; unit: string });
const pushSource = () => gateway.status().pipelines[0]!.pushSources[0]!;

async function file(name: string, bytes: Uint8Array | string): Promise<string> {
  const path = join(fixture.dir, name);
  await writeFile(path, bytes);
  return path;
}

test('CON and NON, JSON and CBOR, to a device\'s and a point\'s resource: each answered 2.04, every value at the subscriber', gate, async () => {
  const cborDevice = await file('device.cbor', Buffer.from('a2' + '6474656d70' + 'fbc010666666666666' + '6368756d' + '1819', 'hex'));
  const cborPoint = await file('point.cbor', Buffer.from('f93e00', 'hex'));
  const runs = [
    await coapClient(['-m', 'post', '-t', '50', '-e', '{"temp": 21.5, "hum": 40}', url('/rooms/1')]),
    await coapClient(['-N', '-m', 'put', '-t', '60', '-f', cborPoint, url('/rooms/1/temp')]),
    await coapClient(['-m', 'post', '-t', '60', '-f', cborDevice, url('/rooms/1')]),
    await coapClient(['-N', '-m', 'post', '-t', '50', '-e', '{"value": 22.25, "ts": 1700000000000, "quality": "suspect"}', url('/rooms/1/temp')]),
  ];
  assert.deepEqual(runs.map((r) => r.answers), [[['ACK', '2.04']], [['NON', '2.04']], [['ACK', '2.04']], [['NON', '2.04']]]);
  await subscriber.waitUntil(() => readings('temp').length >= 4 && readings('hum').length >= 2, 'six readings', 10_000);
  assert.deepEqual(readings('temp').map((r) => [r.value, r.quality, r.unit]), [[21.5, 'good', 'degC'], [1.5, 'good', 'degC'], [-4.1, 'good', 'degC'], [22.25, 'suspect', 'degC']]);
  assert.equal(readings('temp')[3]!.ts, 1700000000000);
  assert.deepEqual(readings('hum').map((r) => r.value), [40, 25]);
  assert.equal(pushSource().accepted, 4);
});

test('Block1: a body sent in 16-byte blocks (each answered 2.31 Continue) is one reading', gate, async () => {
  const before = readings('hum').length;
  const body = await file('blocks.json', JSON.stringify({ hum: 61.25, temp: { value: 19, quality: 'good' }, note: 'sent in blocks of sixteen bytes' }));
  const run = await coapClient(['-m', 'post', '-t', '50', '-b', '16', '-f', body, url('/rooms/1')]);
  assert.deepEqual(run.answers.at(-1), ['ACK', '2.04']);
  assert.ok(run.answers.slice(0, -1).length >= 5 && run.answers.slice(0, -1).every((a) => a[1] === '2.31'), JSON.stringify(run.answers));
  await subscriber.waitUntil(() => readings('hum').length > before, 'the block-wise reading', 10_000);
  assert.equal(readings('hum').at(-1)!.value, 61.25);
});

test('refused with the RFC\'s answers, counted by reason and logged with the sender: 4.04, 4.05, 4.13 (whole and Block1), 4.08 for an offset bomb, 4.15', gate, async () => {
  const big = await file('big.json', `{"temp": ${'1'.repeat(600)}}`);
  const runs = {
    unknown: await coapClient(['-m', 'post', '-e', '1', url('/rooms/2')]),
    get: await coapClient(['-m', 'get', url('/rooms/1')]),
    whole: await coapClient(['-m', 'post', '-t', '50', '-f', big, url('/rooms/1')]),
    blocks: await coapClient(['-m', 'post', '-t', '50', '-b', '64', '-f', big, url('/rooms/1')]),
    // Block 1048575 of 1024-byte blocks: a body that would start at 1 GiB - 1 KiB.
    bomb: await coapClient(['-m', 'post', '-t', '50', '-b', '1048575,1024', '-e', '{"temp": 1}', url('/rooms/1')]),
    media: await coapClient(['-m', 'post', '-t', '42', '-e', '1', url('/rooms/1/temp')]),
  };
  assert.deepEqual(runs.unknown.answers, [['ACK', '4.04']]);
  assert.deepEqual(runs.get.answers, [['ACK', '4.05']]);
  assert.deepEqual(runs.whole.answers, [['ACK', '4.13']]);
  // 256 bytes are four blocks of 64; the fifth would pass max_body.
  assert.deepEqual(runs.blocks.answers, [['ACK', '2.31'], ['ACK', '2.31'], ['ACK', '2.31'], ['ACK', '2.31'], ['ACK', '4.13']]);
  assert.deepEqual(runs.bomb.answers, [['ACK', '4.08']]);
  assert.deepEqual(runs.media.answers, [['ACK', '4.15']]);
  const s = pushSource();
  assert.deepEqual([s.refused.unknown_resource, s.refused.method, s.refused.too_large, s.refused.malformed, s.refused.media_type], [1, 1, 2, 1, 1]);
  assert.equal(s.own.block_transfers, 0, 'no Block1 transfer is held');
  const refused = lines.filter((l) => l.event === 'push.refused');
  const unknown = refused.find((l) => l.reason === 'unknown_resource')!;
  assert.match(String(unknown.sender), /^127\.0\.0\.1:\d+$/);
  assert.equal(unknown.resource, '/rooms/2');
  assert.deepEqual(new Set(refused.map((l) => l.reason)), new Set(['unknown_resource', 'method', 'too_large', 'malformed', 'media_type']));
});

test('a body the decoder cannot read (not-well-formed CBOR) is answered 2.04, skipped and counted by the decoder; the next one is read', gate, async () => {
  const before = readings('temp').length;
  const bad = await file('bad.cbor', Buffer.from('1c', 'hex')); // reserved additional information 28 (RFC 8949 F.1)
  assert.deepEqual((await coapClient(['-m', 'post', '-t', '60', '-f', bad, url('/rooms/1/temp')])).answers, [['ACK', '2.04']]);
  assert.deepEqual((await coapClient(['-m', 'post', '-t', '50', '-e', '23.5', url('/rooms/1/temp')])).answers, [['ACK', '2.04']]);
  await subscriber.waitUntil(() => readings('temp').length > before, 'the good reading after the bad one', 10_000);
  assert.deepEqual(readings('temp').slice(before).map((r) => r.value), [23.5]);
  await waitFor(() => (gateway.status().pipelines[0]!.steps[0]!.stats.malformed ?? 0) >= 1, 10_000, () => 'the decoder counts the malformed body');
  assert.equal(gateway.status().pipelines[0]!.state, 'running');
  assert.ok(lines.some((l) => l.event === 'plugin.log' && /malformed CBOR body \(syntax\) from 127\.0\.0\.1:\d+ to \/rooms\/1\/temp/.test(l.msg)));
});

test('a Confirmable request is ACKed only once its body is committed: while the ring holds it back, coap-client retransmits and gets nothing; one record, one 2.04', gate, async () => {
  const held: Array<() => void> = [];
  const pushed: PushedFrame[] = [];
  const listener = new CoapServerListener(
    { index: 0, at: [], name: 'coap_server', kind: 'coap_server', framing: 'push', devices: [0], inFlight: 1, silenceMs: 0, maxFrameBytes: 256, connectTimeoutMs: 2000, backoff: { minMs: 100, maxMs: 1000 }, transport: 'push', endpoint: 'udp 127.0.0.1:0', limits: { ratePerSecond: 100, burst: 100, maxWaiting: 8 }, maxBodyBytes: 256 },
    { bindAddress: '127.0.0.1', port: 0, resources: [{ path: 't', device: 0, point: 0 }], mediaTypes: ['application/json'], maxBlockTransfers: 4, blockTimeoutMs: 30_000, maxCachedMessages: 64 },
    {
      ingress: { maxBodyBytes: 256, push: (frame) => new Promise((resolve) => { pushed.push(frame); held.push(() => resolve(true)); }) },
      clock: { wallMs: () => Date.now(), monotonicMs: () => performance.now() },
      log: () => {},
    },
  );
  await listener.start();
  try {
    const client = coapClient(['-m', 'post', '-t', '50', '-e', '7', `coap://127.0.0.1:${listener.port}/t`]);
    // libcoap retransmits after ACK_TIMEOUT (2 to 3 s): the retransmission reaches the server and is not taken again.
    await waitFor(() => listener.status().own.duplicates! >= 1, 15_000, () => 'a retransmission while the body waits');
    assert.deepEqual([pushed.length, listener.status().waiting], [1, 1]);
    held.shift()!();
    const run = await client;
    assert.deepEqual(run.answers, [['ACK', '2.04']], 'one answer, after the commit; no empty ACK before it');
    assert.ok(run.sent.length >= 2, `coap-client sent the request ${run.sent.length} times`);
    assert.equal(new Set(run.sent).size, 1, 'a retransmission, with the same message id');
    assert.deepEqual([pushed.length, listener.status().accepted], [1, 1]);
  } finally {
    await listener.stop();
  }
});
