/**
 * The issue's "done when": one pipeline reads a mixed set against real peers: two RTU meters on one
 * serial bus (a socat pty pair, Debian's pymodbus 3.0 as the RTU server), an RTU-over-TCP device
 * (pymodbus's TCP server with the RTU framer, as a serial device server forwards), and a Modbus TCP
 * device (pymodbus). The two meters are one profile. Every value is the one written into the peers'
 * images here by hand.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startPymodbusServer, type PymodbusServer } from '../support/pymodbus.js';
import { startPymodbusRtuOverTcp, startPymodbusRtuSerial, type PymodbusRtuServer } from '../support/pymodbus-rtu.js';
import { findSocat, startPtyPair, type PtyPair } from '../support/pty-pair.js';
import { startCapturedPipeline } from '../support/captured-pipeline.js';
import { findPymodbusPython, needs } from '../support/tools.js';
import { waitFor } from '../support/wait.js';



describe('one pipeline, four devices of three source kinds', { ...needs('python3-pymodbus', !!findPymodbusPython()), ...needs('socat', !!findSocat()) }, () => {
  let pty: PtyPair;
  let bus: PymodbusRtuServer;
  let server: PymodbusRtuServer;
  let plc: PymodbusServer;

  before(async () => {
    pty = await startPtyPair();
    // Meter registers: voltage (uint16, 0.1 V), energy (uint32 ABCD, Wh).
    bus = await startPymodbusRtuSerial({
      path: pty.peerPath, baudRate: 19200, parity: 'none',
      units: {
        1: { input: { 0: [2301, 0x0001, 0x86a0] } }, // 230.1 V, 100000 Wh
        2: { input: { 0: [2298, 0x0000, 0x3039] } }, // 229.8 V, 12345 Wh
      },
    });
    server = await startPymodbusRtuOverTcp({ units: { 5: { holding: { 10: [0xffce] } } } }); // int16 -50
    plc = await startPymodbusServer({ holding: { 0: [0x41a4, 0x0000] } }); // float32 20.5 ABCD
  });
  after(async () => {
    await plc?.stop();
    await server?.stop();
    await bus?.stop();
    await pty?.stop();
  });

  test('every device of every kind is read, each point with its own value', async () => {
    const run = await startCapturedPipeline(`pipeline: { name: mixed }
profiles:
  meter:
    points:
      - { name: voltage, function: 4, address: 0, type: uint16, scale: 0.1, unit: V }
      - { name: energy, function: 4, address: 1, type: uint32, unit: Wh }
source:
  modbus_rtu:
    buses:
      - name: rs485
        port: ${pty.busPath}
        baud: 19200
        parity: none
        devices:
          - { name: meter-1, unit_id: 1, profile: meter, interval: 100ms, timeout: 500ms }
          - { name: meter-2, unit_id: 2, profile: meter, interval: 100ms, timeout: 500ms }
  modbus_rtu_over_tcp:
    buses:
      - name: nport
        host: 127.0.0.1
        port: ${server.port}
        devices:
          - name: chiller
            unit_id: 5
            interval: 100ms
            points: [{ name: delta, function: 3, address: 10, type: int16 }]
  modbus_tcp:
    devices:
      - name: plc
        host: 127.0.0.1
        port: ${plc.port}
        interval: 100ms
        points: [{ name: temp, function: 3, address: 0, type: float32 }]
steps:
  - plugin: modbus
  - plugin: json
    with: { include: { device: true } }
publish: { uplink: cloud, topic: "t/{device}/{point}" }
`);
    try {
      const latest = () => {
        const seen = new Map<string, Record<string, unknown>>();
        for (const m of run.messages()) if (m.quality === 'good') seen.set(`${String(m.device)}/${String(m.point)}`, m);
        return seen;
      };
      await waitFor(() => latest().size === 6, 20_000, () => `good: ${[...latest().keys()].join(', ')}; status ${JSON.stringify(run.pipeline.status().devices)}`);
      const values = Object.fromEntries([...latest()].map(([k, m]) => [k, m.value]));
      assert.deepEqual(values, {
        'meter-1/voltage': 2301 * 0.1, // raw × scale in doubles: 230.10000000000002
        'meter-1/energy': 100000,
        'meter-2/voltage': 2298 * 0.1,
        'meter-2/energy': 12345,
        'chiller/delta': -50,
        'plc/temp': 20.5,
      });
      const links = run.pipeline.status().links;
      assert.deepEqual(links.map((l) => [l.link, l.kind, l.devices]), [['rs485', 'modbus_rtu', 2], ['nport', 'modbus_rtu_over_tcp', 1], ['plc', 'modbus_tcp', 1]]);
      assert.ok(links.every((l) => l.peakInFlight === 1));
    } finally {
      await run.stop();
    }
  });
});
