// BACnet/IP faults in one gateway: four devices on their own UDP links, one healthy (@bacnet-js/client),
// one that stops answering, one that answers every request with an Error PDU, and a hostile one that
// sends malformed datagrams (a lying BVLC length, a truncated ACK, another invoke id, bytes that are
// not BACnet/IP). The faulty devices' points go no-comm or bad, the malformed datagrams are dropped and
// counted without closing the link, the decoder names the device's error, and the healthy device keeps
// its rate: the time it takes for ten readings while the others fail is compared with the time ten
// took before, in the same run (no absolute timing).
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import { Gateway } from '../../src/host/gateway.js';
import { startMosquitto, mosquittoPath } from '../support/mosquitto.js';
import { startAedes } from '../support/aedes.js';
import type { TestBroker } from '../support/test-broker.js';
import { subscribe } from '../support/mqtt-subscriber.js';
import { gatewayYaml, writeGatewayFixture } from '../support/gateway-fixture.js';
import { real, startBacnetDevice, startGarbageDevice } from '../support/bacnet-device.js';

let broker: TestBroker;
before(async () => {
  broker = mosquittoPath() ? await startMosquitto() : await startAedes();
});
after(() => broker?.dispose());

function device(name: string, port: number, instance: number): string {
  return `      - { name: ${name}, host: 127.0.0.1, port: ${port}, device_instance: ${instance}, interval: 100ms, timeout: 200ms, retries: 0,
          points: [ { name: temp, object_type: analog-input, instance: 1 } ] }`;
}

type Line = Record<string, unknown> & { msg: string };

test('a silent device, an erroring one and a hostile one: their points no-comm or bad, the link up, the healthy device at its rate', async () => {
  const healthy = await startBacnetDevice(1, [{ type: 0, instance: 1, properties: { 85: real(20) } }]);
  const silent = await startBacnetDevice(2, [{ type: 0, instance: 1, properties: { 85: real(21) } }]);
  const erring = await startBacnetDevice(3, [{ type: 0, instance: 1, properties: { 85: real(22) } }]);
  const hostile = await startGarbageDevice();
  const pipeline = `pipeline: { name: faults }
source:
  bacnet_ip:
    devices:
${[device('healthy', healthy.port, 1), device('silent', silent.port, 2), device('erring', erring.port, 3), device('hostile', hostile.port, 4)].join('\n')}
steps:
  - plugin: bacnet
  - plugin: json
publish: { uplink: cloud, topic: "bms/{device}/{point}", qos: 0 }
`;
  const fixture = await writeGatewayFixture(gatewayYaml(broker.url), pipeline);
  const loaded = await loadGatewayConfig(fixture.gatewayFile);
  assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.problems));
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split('\n')) if (text) lines.push(JSON.parse(text) as Line);
      done();
    },
  });
  const subscriber = await subscribe(broker.url, 'bms/#');
  const gateway = await Gateway.start(loaded.config, { logger: pino({ level: 'info' }, sink), statusIntervalMs: 0 });
  const of = (name: string) => subscriber.messages.filter((m) => m.topic === `bms/${name}/temp`).map((m) => JSON.parse(m.payload.toString()) as { value: unknown; quality: string });
  /** Wall time for `n` more good readings of the healthy device. */
  const timeFor = async (n: number): Promise<number> => {
    const from = of('healthy').length;
    const start = performance.now();
    await subscriber.waitUntil(() => of('healthy').length >= from + n, `${n} more healthy readings`, 15_000);
    return performance.now() - start;
  };
  try {
    await subscriber.waitUntil(() => of('healthy').length > 0 && of('silent').some((r) => r.quality === 'good'), 'first readings', 10_000);
    const before = await timeFor(10);
    silent.setMode('silent');
    erring.setMode('error');
    await subscriber.waitUntil(() => of('silent').some((r) => r.quality === 'no-comm') && of('erring').some((r) => r.quality === 'bad'), 'the faults seen', 10_000);
    const during = await timeFor(10);
    assert.ok(during < before * 3, `ten healthy readings took ${during.toFixed(0)} ms while the others failed, ${before.toFixed(0)} ms before`);
    assert.ok(of('healthy').every((r) => r.quality === 'good' && r.value === 20), 'the healthy device\'s readings are all good');

    // The hostile device: every answer refused, as bad (a truncated ACK) or no-comm (nothing usable came).
    await subscriber.waitUntil(() => of('hostile').length >= 8, 'readings of the hostile device', 10_000);
    assert.ok(of('hostile').every((r) => r.quality === 'bad' || r.quality === 'no-comm'), JSON.stringify(of('hostile').slice(0, 8)));
    assert.ok(of('hostile').some((r) => r.quality === 'bad') && of('hostile').some((r) => r.quality === 'no-comm'));
    const status = gateway.status().pipelines[0]!;
    const link = status.links.find((l) => l.link === 'hostile')!;
    assert.ok(link.malformedDatagrams >= 1, `malformed datagrams are counted (${link.malformedDatagrams})`);
    assert.ok(link.unmatchedAnswers >= 1, `an answer with another invoke id is no request's (${link.unmatchedAnswers})`);
    assert.equal(link.connected, true, 'malformed datagrams do not end a UDP link');
    assert.ok(status.devices.find((d) => d.device === 'silent')!.timeouts >= 1);
    assert.equal(status.state, 'running');

    // The decoder said what the erring device answers, once, naming it.
    const said = lines.filter((l) => l.event === 'plugin.log' && /device erring \(instance 3\)/.test(l.msg));
    assert.equal(said.length, 1, JSON.stringify(said));
    assert.match(said[0]!.msg, /error device operational-problem/);
    assert.ok(erring.requests.readPropertyMultiple > 1, 'the erring device was asked again after its errors');
  } finally {
    await gateway.stop();
    await subscriber.close();
    await fixture.dispose();
    await Promise.all([healthy.close(), silent.close(), erring.close(), hostile.close()]);
  }
});
