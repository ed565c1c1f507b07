/**
 * The CoAP uplink against Debian's libcoap3 `coap-server` (the libcoap example server, an
 * implementation that is not ours): confirmable PUTs acknowledged and read back by libcoap's
 * `coap-client`, a payload sent block-wise (RFC 7959 Block1) as the server's own log shows, every
 * message arriving while the server drops 20 % of what it sends, a refusal for good not retried, and
 * a whole gateway publishing a Modbus reading over CoAP.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { defaultTiming, updateTiming } from 'coap';
import { CoapSink, type CoapSinkOptions } from '../../src/host/sinks/coap.js';
import { isWgError } from '../../src/host/errors.js';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import { Gateway } from '../../src/host/gateway.js';
import { findLibcoap, startLibcoapServer, type LibcoapServer } from '../support/libcoap-server.js';
import { startPymodbusServer, type PymodbusServer } from '../support/pymodbus.js';
import { findPymodbusPython, needs } from '../support/tools.js';
import { writeGatewayFixture } from '../support/gateway-fixture.js';
import { waitFor } from '../support/wait.js';

const silent = pino({ level: 'silent' });

function sinkTo(server: LibcoapServer, options: Partial<CoapSinkOptions> = {}): CoapSink {
  const sink = new CoapSink({
    name: 'coap-test', host: '127.0.0.1', port: server.port, path: ['ingest'], method: 'PUT', qos: 1,
    blockSize: 1024, inFlight: 1, maxRetransmit: 4, reconnect: { minMs: 50, maxMs: 500 }, ...options,
  }, silent);
  sink.start();
  return sink;
}

describe('CoAP uplink against libcoap', needs('libcoap3-bin', findLibcoap()), () => {
  let server: LibcoapServer;
  before(async () => {
    server = await startLibcoapServer();
  });
  after(async () => {
    await server?.stop();
  });

  test('confirmable PUTs are acknowledged, in order, and each can be read back', async () => {
    const sink = sinkTo(server);
    try {
      await Promise.all(Array.from({ length: 10 }, (_, i) => sink.publish(`m/${i}`, `{"seq":${i}}`)));
      assert.deepEqual({ acked: sink.counters().acked, failed: sink.counters().failed }, { acked: 10, failed: 0 });
      assert.equal(sink.state, 'connected');
      for (let i = 0; i < 10; i++) assert.equal(await server.get(`/ingest/m/${i}`), `{"seq":${i}}`);
      // Received in the order published (one request outstanding at a time).
      const paths = [...server.log().matchAll(/c:PUT .*Uri-Path:ingest, Uri-Path:m, Uri-Path:(\d+)/g)].map((m) => Number(m[1]));
      assert.deepEqual([...new Set(paths)], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    } finally {
      await sink.close();
    }
  });

  test('a payload over the block size goes block-wise, 64 bytes a block, and arrives whole', async () => {
    const sink = sinkTo(server, { blockSize: 64 });
    // 300 bytes: blocks 0-3 of 64 with More set, block 4 (44 bytes) the last (RFC 7959 2.2).
    const payload = Array.from({ length: 300 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    try {
      await sink.publish('big/one', payload);
      assert.equal(await server.get('/ingest/big/one'), payload);
      const blocks = [...server.log().matchAll(/c:PUT .*Uri-Path:big, Uri-Path:one, Block1:(\d+)\/(M|_)\/64/g)].map((m) => `${m[1]}${m[2]}`);
      assert.deepEqual([...new Set(blocks)], ['0M', '1M', '2M', '3M', '4_']);
    } finally {
      await sink.close();
    }
  });

  test('a PUT the server refuses for good (no room for a new resource) is rejected once, not retried', async () => {
    const full = await startLibcoapServer({ maxResources: 0 });
    const sink = sinkTo(full);
    try {
      await assert.rejects(sink.publish('nowhere/x', '1'), (e: unknown) => isWgError(e, 'WG_ERR_UPLINK_REFUSED') && /refused it for good with 4\.\d\d/.test(e.message));
      assert.equal(sink.counters().failed, 1);
      assert.equal([...full.log().matchAll(/c:PUT .*Uri-Path:nowhere/g)].length, 1, 'sent once');
      // A refusal is an answer: the uplink is up, not backing off as after a lost exchange.
      assert.equal(sink.state, 'connected');
      assert.equal(sink.counters().reconnects, 0);
    } finally {
      await sink.close();
      await full.stop();
    }
  });
});

describe('CoAP uplink with 20 % of the server\'s datagrams lost', needs('libcoap3-bin', findLibcoap()), () => {
  // A quarter of RFC 7252's ACK_TIMEOUT keeps the worst case (all five answers of one exchange lost,
  // then given up after MAX_TRANSMIT_WAIT) at 23 s instead of 93 s, inside this file's time limit.
  before(() => updateTiming({ ackTimeout: 0.5 }));
  after(() => defaultTiming());
  test('every message arrives: lost acknowledgements are retransmitted for', async () => {
    const lossy = await startLibcoapServer({ loss: '20%' });
    const sink = sinkTo(lossy, { inFlight: 4, reconnect: { minMs: 20, maxMs: 200 } });
    try {
      await Promise.all(Array.from({ length: 20 }, (_, i) => sink.publish(`lossy/${i}`, `v${i}`)));
      assert.equal(sink.counters().acked, 20);
      // The check's own GETs cross the same lossy server: coap-client gives up on one now and then
      // (no answer within its wait prints nothing), so a GET that got no answer is asked again.
      for (let i = 0; i < 20; i++) {
        let got = await lossy.get(`/ingest/lossy/${i}`);
        for (let attempt = 1; got === '' && attempt < 5; attempt++) got = await lossy.get(`/ingest/lossy/${i}`);
        assert.equal(got, `v${i}`);
      }
    } finally {
      await sink.close();
      await lossy.stop();
    }
  });
});

describe('a gateway publishing over CoAP', { ...needs('libcoap3-bin', findLibcoap()), ...needs('python3-pymodbus', !!findPymodbusPython()) }, () => {
  let server: LibcoapServer;
  let plc: PymodbusServer;
  before(async () => {
    server = await startLibcoapServer();
    plc = await startPymodbusServer({ holding: { 0: [0x41a4, 0x0000] } }); // float32 20.5, ABCD
  });
  after(async () => {
    await plc?.stop();
    await server?.stop();
  });

  test('a Modbus reading reaches the CoAP server at the uplink path with its topic', async () => {
    const fixture = await writeGatewayFixture(`gateway: { id: gw-coap, data_dir: ./data, log: { level: warn, format: json } }
uplinks:
  field:
    coap: { url: "coap://127.0.0.1:${server.port}/ingest", method: put }
pipelines: [./pipeline.yaml]
`, `pipeline: { name: plant }
source:
  modbus_tcp:
    devices:
      - { name: plc, host: 127.0.0.1, port: ${plc.port}, interval: 100ms, points: [{ name: temp, function: 3, address: 0, type: float32 }] }
steps:
  - plugin: modbus
  - plugin: json
publish: { uplink: field, topic: "{gateway}/{device}/{point}" }
`);
    const loaded = await loadGatewayConfig(fixture.gatewayFile);
    assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.problems));
    const gateway = await Gateway.start(loaded.config, { logger: silent, statusIntervalMs: 0 });
    try {
      let body: string | undefined;
      await waitFor(() => gateway.status().uplinks[0]!.acked > 0, 20_000, () => `status ${JSON.stringify(gateway.status().uplinks)}`);
      for (let i = 0; i < 100 && body === undefined; i++) {
        body = await server.get('/ingest/gw-coap/plc/temp');
        if (body === undefined) await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(body, 'the reading arrived');
      const message = JSON.parse(body) as { value: number; quality: string };
      assert.equal(message.value, 20.5);
      assert.equal(message.quality, 'good');
      assert.equal(gateway.status().uplinks[0]!.state, 'connected');
    } finally {
      await gateway.stop();
      await fixture.dispose();
    }
  });
});
