/**
 * Every message carries its seq (and a replay its replay flag), and every reading is accounted for:
 * the seqs a consumer sees, plus the drops the outbox reports when the link returns, cover every
 * number the gateway handed out. Real daemon (child process), the PLC simulator, mosquitto stopped and
 * started again, an independent subscriber with a persistent session. `mark: fields` puts the marks in
 * the JSON payload, where the subscriber reads them with JSON.parse.
 *
 * The second test is the live_first replay: after the outage the new readings go out at once and the
 * backlog behind them at its rate; the bound on the backlog's pace is an upper bound (a token bucket
 * never hands out more than rate x time + its capacity), so a slow machine cannot fail it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { subscribe, type ReceivedMessage } from '../support/mqtt-subscriber.js';
import { needs } from '../support/tools.js';
import { waitFor } from '../support/wait.js';
import { gatewayYaml, onePointPipelineYaml, writeGatewayFixture } from '../support/gateway-fixture.js';

const INTERVAL_MS = 100;
const gate = needs('mosquitto', !!mosquittoPath());

interface Reading { seq: number; replay?: boolean; ts: number; value: number }
interface DropReport { report: string; gateway: string; uplink: string; dropped_by_bytes: number; dropped_by_age: number; dead_letters: number; seq: number }

const readings = (messages: readonly ReceivedMessage[]) => messages.filter((m) => m.topic === 'plant/level').map((m) => JSON.parse(m.payload.toString()) as Reading);
const reports = (messages: readonly ReceivedMessage[]) => messages.filter((m) => m.topic === 'wasmgate/gw-marks/outbox/cloud').map((m) => JSON.parse(m.payload.toString()) as DropReport);
/** QoS 1 may deliver twice (a resend after the broker restart): the first arrival of each seq. */
function firstArrivals<T extends { seq: number }>(items: readonly T[]): T[] {
  const seen = new Set<number>();
  return items.filter((i) => !seen.has(i.seq) && seen.add(i.seq));
}

async function started(file: string): Promise<GatewayProcess> {
  const gateway = startGatewayProcess(file);
  await gateway.waitForLine((l) => l.includes('"gateway started"'), 'gateway started', 30_000);
  return gateway;
}

test('each message carries its seq; the outage\'s backlog is marked replay; seqs seen plus drops reported cover every seq handed out', gate, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [7] } } });
  t.after(() => plc.close());
  // A reading is about 80 bytes (topic "plant/level" and {"seq":..,"point":"level","value":7,...}):
  // 2 KiB holds about 25 of them, so a 3 s outage at 10 readings a second must drop some.
  const fixture = await writeGatewayFixture(
    gatewayYaml(broker.url, 'gw-marks', { logLevel: 'info', uplink: ['      outbox: { mark: fields, max_bytes: 2KiB }'] }),
    onePointPipelineYaml(plc.port, { intervalMs: INTERVAL_MS }),
  );
  t.after(() => fixture.dispose());
  const subscriber = await subscribe(broker.url, '#', { persistentId: 'marks-subscriber' });
  t.after(() => subscriber.close());
  const gateway = await started(fixture.gatewayFile);
  t.after(() => gateway.stop());

  await subscriber.waitUntil((m) => readings(m).length >= 5, '5 readings', 20_000);
  const before = readings(subscriber.messages);
  assert.ok(before.every((r) => Number.isInteger(r.seq) && r.seq >= 1), JSON.stringify(before.slice(0, 3)));
  assert.ok(before.every((r) => r.replay === undefined), 'live readings carry no replay flag');
  assert.deepEqual(before.map((r) => r.seq), before.map((_, i) => before[0]!.seq + i), 'consecutive while the link is up');

  await broker.stop();
  const outageFrom = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  await broker.start();
  const backAt = Date.now();

  await subscriber.waitUntil((m) => reports(m).length >= 1, 'the drop report', 20_000);
  // Readings made a second after the broker came back are live again.
  await subscriber.waitUntil((m) => readings(m).some((r) => r.ts > backAt + 1_000), 'a reading made after the outage', 20_000);
  const all = firstArrivals(readings(subscriber.messages));
  const [report] = reports(subscriber.messages);

  assert.equal(report!.gateway, 'gw-marks');
  assert.equal(report!.uplink, 'cloud');
  assert.ok(report!.dropped_by_bytes > 0, `the 2 KiB cap dropped readings of the outage: ${JSON.stringify(report)}`);
  assert.equal(report!.dropped_by_age, 0);
  assert.equal(report!.dead_letters, 0);

  // Accounting: from the first seq seen to the report's own, every number is a reading that arrived,
  // or a drop the report counts, or the report.
  const last = report!.seq;
  const seen = new Set([...all.map((r) => r.seq), report!.seq]);
  const first = all[0]!.seq;
  const missing = Array.from({ length: last - first + 1 }, (_, i) => first + i).filter((s) => !seen.has(s));
  // A message the uplink already held when the cap dropped it still arrives, and counts as dropped
  // too: the ones in flight when the broker went (at 10 a second, one at most) and the one the sender
  // keeps with the sink while the link is away. So the report may exceed what is missing by those.
  const overCount = report!.dropped_by_bytes - missing.length;
  assert.ok(overCount >= 0 && overCount <= 2, `seqs missing at the subscriber (${missing.length}: ${JSON.stringify(missing)}) are the ${report!.dropped_by_bytes} drops reported, less at most the 2 the uplink held`);

  const outage = all.filter((r) => r.ts > outageFrom + 200 && r.ts < backAt - 200);
  assert.ok(outage.length > 0, 'readings of the outage arrived');
  assert.ok(outage.every((r) => r.replay === true), `readings of the outage are marked replay: ${JSON.stringify(outage.filter((r) => r.replay !== true).slice(0, 3))}`);
  const after = all.filter((r) => r.ts > backAt + 1_000);
  assert.ok(after.every((r) => r.replay === undefined), 'readings made well after the reconnect are live');
  // The log says what the connection found and when it was through, with the rate (observability).
  assert.ok(gateway.lines.some((l) => /messages waiting in the outbox: replaying them/.test(l)), 'the replay is logged');
  await waitFor(() => gateway.lines.some((l) => l.includes('outbox caught up')), 10_000, () => gateway.lines.slice(-5).join('\n'));
  const caughtUp = JSON.parse(gateway.lines.find((l) => l.includes('outbox caught up'))!) as { delivered: number; perS: number; uplink: string };
  assert.equal(caughtUp.uplink, 'cloud');
  assert.ok(caughtUp.delivered > 0 && caughtUp.perS > 0, JSON.stringify(caughtUp));
  // in_order: the first arrivals come in seq order.
  assert.deepEqual(all.map((r) => r.seq), [...all.map((r) => r.seq)].sort((a, b) => a - b));
});

test('live_first: after an outage the new readings go out before the backlog is through, and the backlog keeps to its rate', gate, async (t) => {
  const RATE = 10;
  const broker = await startMosquitto();
  t.after(() => broker.dispose());
  const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [3] } } });
  t.after(() => plc.close());
  const fixture = await writeGatewayFixture(
    gatewayYaml(broker.url, 'gw-live', { logLevel: 'info', uplink: [`      outbox: { mark: fields, replay: live_first, replay_rate: ${RATE} }`] }),
    onePointPipelineYaml(plc.port, { intervalMs: INTERVAL_MS }),
  );
  t.after(() => fixture.dispose());
  const subscriber = await subscribe(broker.url, 'plant/#', { persistentId: 'live-first-subscriber' });
  t.after(() => subscriber.close());
  const gateway = await started(fixture.gatewayFile);
  t.after(() => gateway.stop());
  await subscriber.waitUntil((m) => readings(m).length >= 3, '3 readings', 20_000);

  await broker.stop();
  await new Promise((resolve) => setTimeout(resolve, 4_000)); // about 40 readings of backlog: 4 s at 10 a second
  await broker.start();

  const arrivals: Array<{ at: number; reading: Reading }> = [];
  let counted = subscriber.messages.length;
  const watch = setInterval(() => {
    for (const m of subscriber.messages.slice(counted)) if (m.topic === 'plant/level') arrivals.push({ at: Date.now(), reading: JSON.parse(m.payload.toString()) as Reading });
    counted = subscriber.messages.length;
  }, 20);
  t.after(() => clearInterval(watch));
  // The backlog is through once no replay arrives for a second while live readings do.
  await waitFor(() => {
    const lastReplay = arrivals.filter((a) => a.reading.replay === true).at(-1);
    return lastReplay !== undefined && Date.now() - lastReplay.at > 1_500 && arrivals.some((a) => a.at > lastReplay.at && a.reading.replay === undefined);
  }, 30_000, () => `${arrivals.length} arrivals, ${arrivals.filter((a) => a.reading.replay).length} replays`);
  clearInterval(watch);

  const replays = arrivals.filter((a) => a.reading.replay === true);
  const firstLive = arrivals.find((a) => a.reading.replay === undefined)!;
  assert.ok(replays.length >= 20, `the outage left a backlog (${replays.length} replays)`);
  assert.ok(firstLive.at < replays.at(-1)!.at, 'a live reading arrived before the backlog was through');
  // Token bucket: at most RATE a second plus its capacity (a tenth of a second's worth, at least 1),
  // plus one interval of the subscriber's sampling on either side.
  const spanS = (replays.at(-1)!.at - replays[0]!.at + 2 * 20) / 1000;
  const bound = RATE * spanS + Math.max(1, Math.ceil(RATE / 10)) + 1;
  assert.ok(replays.length <= bound, `${replays.length} replays in ${spanS.toFixed(2)} s, a bucket of ${RATE}/s allows at most ${bound.toFixed(1)}`);
  // The backlog itself still goes oldest first.
  const seqs = firstArrivals(replays.map((a) => a.reading)).map((r) => r.seq);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
});
