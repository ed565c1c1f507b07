/**
 * kill -9 of the real daemon while the broker is up, twice, each time restarted on the same
 * data_dir. With the outbox written behind (deferred-outbox.ts) nearly every message goes out and is
 * acknowledged before it is ever written, so the outbox file does not know its seq: a restart that
 * went on from the file would hand those seqs out again, for other readings, and a consumer that
 * de-duplicates by seq would drop the new readings as repeats. At an independent subscriber a seq
 * (the `"seq"` field every message carries with `outbox.mark: fields`, message-mark.ts) must never name two different readings:
 * a seq seen twice is the same reading sent again (at least once), with the same poll number and time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGatewayProcess } from '../support/gateway-process.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { subscribe } from '../support/mqtt-subscriber.js';
import { needs } from '../support/tools.js';
import { gatewayYaml, writeGatewayFixture } from '../support/gateway-fixture.js';
import { countingPipeline, startCountingPlc } from '../support/counting-plc.js';

const INTERVAL_MS = 20;
const KILLS = 2;

test('kill -9 with the broker up: no seq is handed out again for another reading after the restart', needs('mosquitto', !!mosquittoPath()), async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const plc = await startCountingPlc();
  t.after(() => plc.close());
  const fixture = await writeGatewayFixture(gatewayYaml(broker.url, 'gw-seq-kill', { uplink: ['      outbox: { mark: fields }'] }), countingPipeline(plc.port, INTERVAL_MS));
  t.after(() => fixture.dispose());
  const subscriber = await subscribe(broker.url, 'plant/#');
  t.after(() => subscriber.close());

  let gateway = startGatewayProcess(fixture.gatewayFile);
  for (let run = 0; run <= KILLS; run++) {
    const before = subscriber.messages.length;
    await subscriber.waitUntil((m) => m.length >= before + 40, `40 more readings in run ${run}`, 60_000);
    if (run === KILLS) break;
    await gateway.kill();
    gateway = startGatewayProcess(fixture.gatewayFile);
  }
  t.after(() => gateway.stop());

  const bySeq = new Map<number, string>();
  let clashes = 0;
  for (const m of subscriber.messages) {
    const { seq, replay: _replay, ...reading } = JSON.parse(m.payload.toString()) as { seq: number; replay?: boolean; value: number; ts: number };
    assert.equal(typeof seq, 'number', `every message carries its seq: ${m.payload.toString()}`);
    const seen = bySeq.get(seq);
    const text = JSON.stringify(reading);
    if (seen !== undefined && seen !== text) clashes++;
    if (seen === undefined) bySeq.set(seq, text);
  }
  assert.equal(clashes, 0, `no seq names two different readings (${subscriber.messages.length} messages, ${bySeq.size} seqs)`);
});
