/**
 * Modbus TCP with several transactions in flight on one connection (`in_flight`), against Debian's
 * pymodbus: answers are matched to requests by transaction id, so every point gets its own register's
 * value however the answers interleave. The values are the server's image, written here by hand.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startPymodbusServer, type PymodbusServer } from '../support/pymodbus.js';
import { startCapturedPipeline } from '../support/captured-pipeline.js';
import { findPymodbusPython, needs } from '../support/tools.js';
import { waitFor } from '../support/wait.js';

// Eight registers three apart: with max_gap 0 each point is its own request.
const ADDRESSES = [0, 3, 6, 9, 12, 15, 18, 21];
const valueAt = (address: number) => 1000 + address;

function pipeline(port: number, inFlight: number): string {
  return `pipeline: { name: inflight }
source:
  modbus_tcp:
    devices:
      - name: plc
        host: 127.0.0.1
        port: ${port}
        in_flight: ${inFlight}
        interval: 50ms
        timeout: 1s
        points:
${ADDRESSES.map((a) => `          - { name: r${a}, function: 3, address: ${a}, type: uint16 }`).join('\n')}
steps:
  - plugin: modbus
  - plugin: json
publish: { uplink: cloud, topic: "t/{device}/{point}" }
`;
}

describe('Modbus TCP with transactions in flight', needs('python3-pymodbus', !!findPymodbusPython()), () => {
  let server: PymodbusServer;
  before(async () => {
    const holding: Record<number, number[]> = {};
    for (const a of ADDRESSES) holding[a] = [valueAt(a)];
    server = await startPymodbusServer({ holding });
  });
  after(async () => server?.stop());

  test('four in flight: every point gets its own register, answers matched by transaction id', async () => {
    const run = await startCapturedPipeline(pipeline(server.port, 4));
    try {
      await waitFor(() => run.sink.messages.length >= ADDRESSES.length * 5, 20_000, () => `${run.sink.messages.length} messages`);
      const status = run.pipeline.status();
      const link = status.links[0]!;
      assert.equal(link.peakInFlight, 4, 'four requests held the connection at once');
      const device = status.devices[0]!;
      assert.equal(device.timeouts, 0);
      assert.equal(device.framingErrors, 0);
      for (const m of run.messages()) {
        const address = Number(String(m.point).slice(1));
        assert.equal(m.value, valueAt(address), `point ${String(m.point)}`);
        assert.equal(m.quality, 'good');
      }
    } finally {
      await run.stop();
    }
  });

  test('in_flight 1 keeps one transaction at a time', async () => {
    const run = await startCapturedPipeline(pipeline(server.port, 1));
    try {
      await waitFor(() => run.sink.messages.length >= ADDRESSES.length * 3, 20_000);
      assert.equal(run.pipeline.status().links[0]!.peakInFlight, 1);
    } finally {
      await run.stop();
    }
  });
});
