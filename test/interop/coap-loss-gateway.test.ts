/**
 * The real daemon publishing over CoAP to libcoap's `coap-server` (not our code) with 20 % of the
 * datagrams lost in each direction: the server's own `-l 20%` drops a fifth of what it sends (its
 * acknowledgements), and a relay (test/support/lossy-udp-relay.ts) a fifth of what the gateway sends.
 * Under steady polling every reading arrives at the server, which logs every request it received
 * with its payload (verbosity 7); which readings were taken is told by the PLC, whose registers count
 * its polls (test/support/counting-plc.ts).
 *
 * An exchange then succeeds with 0.8 x 0.8 = 0.64, a confirmable request is tried 5 times (RFC 7252:
 * ACK_TIMEOUT 2 s doubling, MAX_RETRANSMIT 4), and one in about 170 (0.36^5) fails all five and is
 * left to the outbox to send again. A reading on its third try waits 6-9 s, on its fifth 30-45 s:
 * hence few readings (one poll a second for 12 s) and 4 requests in flight.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGatewayProcess } from '../support/gateway-process.js';
import { writeGatewayFixture } from '../support/gateway-fixture.js';
import { countingPipeline, missingNumbers, readingOf, startCountingPlc, type CountedReading } from '../support/counting-plc.js';
import { findLibcoap, startLibcoapServer } from '../support/libcoap-server.js';
import { startLossyUdpRelay } from '../support/lossy-udp-relay.js';
import { seededRandom } from '../support/soak.js';
import { needs } from '../support/tools.js';

const INTERVAL_MS = 1_000;
const POLLING_MS = 12_000;
const LOSS = 0.2;

/** The readings of point `polls` the server received, as its log shows them (retransmissions included). */
function receivedReadings(log: string): CountedReading[] {
  return [...log.matchAll(/c:PUT i:[0-9a-f]+ .*Uri-Path:polls \] :: '([^']*)'/g)].map((m) => readingOf(m[1]!));
}

test('CoAP with 20 % of the datagrams lost both ways: every reading taken arrives at libcoap\'s server', { ...needs('libcoap3-bin', findLibcoap()), timeout: 110_000 }, async (t) => {
  const { random, seed } = seededRandom();
  t.diagnostic(`seed ${seed} (the relay's drops)`);
  const server = await startLibcoapServer({ loss: '20%' });
  t.after(() => server.stop());
  const relay = await startLossyUdpRelay({ host: '127.0.0.1', port: server.port }, LOSS, random);
  t.after(() => relay.close());
  const plc = await startCountingPlc();
  t.after(() => plc.close());
  const fixture = await writeGatewayFixture(`gateway: { id: gw-coap-loss, data_dir: ./data, log: { level: info, format: json } }
uplinks:
  cloud:
    coap: { url: "coap://127.0.0.1:${relay.port}/ingest", method: put, in_flight: 4, reconnect: { min: 50ms, max: 500ms } }
pipelines: [./pipeline.yaml]
`, countingPipeline(plc.port, INTERVAL_MS));
  t.after(() => fixture.dispose());

  const gateway = startGatewayProcess(fixture.gatewayFile);
  t.after(() => gateway.stop());
  await gateway.waitForLine((l) => l.includes('"gateway started"'), 'gateway started', 30_000);
  await new Promise((resolve) => setTimeout(resolve, POLLING_MS));
  const taken = Array.from({ length: plc.last() }, (_, i) => i + 1);
  assert.ok(taken.length >= 5, `polled ${taken.length} times`);

  const deadline = Date.now() + 90_000;
  while (missingNumbers(taken, receivedReadings(server.log())).length > 0) {
    if (Date.now() > deadline) {
      assert.fail(`readings ${missingNumbers(taken, receivedReadings(server.log())).join(', ')} of ${taken.length} never reached the server; relay ${JSON.stringify(relay.counts)}; log: ${gateway.lines.filter((l) => /outbox|error|warn/.test(l)).slice(-8).join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const received = receivedReadings(server.log());
  assert.ok(received.every((r) => r.quality === 'good'), 'every poll was answered');
  // The loss was real: the relay dropped a fifth of the requests (exactly, test/support/lossy-udp-relay.ts).
  // The server's own drops are libcoap's random choice, so they are reported, not asserted: a request
  // it received again (the same message id) is one whose acknowledgement it dropped, or a retransmission
  // that crossed a late acknowledgement.
  const ids = [...server.log().matchAll(/c:PUT i:([0-9a-f]+) .*Uri-Path:polls/g)].map((m) => m[1]);
  const seenAgain = ids.length - new Set(ids).size;
  assert.ok(relay.counts.dropped >= Math.floor((relay.counts.dropped + relay.counts.forwarded) * LOSS), `the relay dropped a fifth of the requests: ${JSON.stringify(relay.counts)}`);
  assert.ok(relay.counts.dropped > 0);
  t.diagnostic(`${taken.length} readings taken, all arrived; relay dropped ${relay.counts.dropped} of ${relay.counts.dropped + relay.counts.forwarded} datagrams from the gateway; the server received ${seenAgain} requests again`);
});
