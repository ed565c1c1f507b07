// modbus decoder, I/O side: the request frames it builds and where it says a response frame ends.
// Expected bytes come from the Modbus Application Protocol Specification V1.1b3 (the request examples
// of 6.1-6.4), the MBAP header of the Modbus Messaging on TCP/IP Implementation Guide V1.0b, and
// modbus-serial's own client, which sends its requests to a TCP server the test runs on port 0.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import modbusSerial from 'modbus-serial';
import { isWgError } from '../../src/host/errors.js';
import { modbusDecoder, requestRange } from '../support/modbus-plugin.js';

// CommonJS package: under NodeNext its default import is the module, the client class its `default`.
const ModbusRTU = modbusSerial.default;

const BAD_FRAME = -5;

test('one request per function code carries the spec example PDUs behind an MBAP header', () => {
  const { instance } = modbusDecoder({
    devices: [{ name: 'plc1', unit_id: 0x11 }],
    points: [
      // Spec 6.1, read coils 20-38: start 0x0013, quantity 0x0013.
      ...Array.from({ length: 19 }, (_, i) => ({ function: 1, address: 19 + i, type: 'bool' })),
      // Spec 6.2, read discrete inputs 197-218: start 0x00C4, quantity 0x0016.
      ...Array.from({ length: 22 }, (_, i) => ({ function: 2, address: 196 + i, type: 'bool' })),
      // Spec 6.3, read holding registers 108-110: start 0x006B, quantity 0x0003.
      ...Array.from({ length: 3 }, (_, i) => ({ function: 3, address: 107 + i, type: 'uint16' })),
      // Spec 6.4, read input register 9: start 0x0008, quantity 0x0001.
      { function: 4, address: 8, type: 'uint16' },
    ],
  });
  assert.deepEqual([...instance.requests()], [0, 0, 0, 0]);
  // MBAP: transaction id (seq), protocol 0, length 6 (unit + 5-byte PDU), unit id of the device.
  assert.deepEqual([...instance.request(0, 0x1234)], [0x12, 0x34, 0, 0, 0, 6, 0x11, 0x01, 0x00, 0x13, 0x00, 0x13]);
  assert.deepEqual([...instance.request(1, 2)], [0, 2, 0, 0, 0, 6, 0x11, 0x02, 0x00, 0xc4, 0x00, 0x16]);
  assert.deepEqual([...instance.request(2, 3)], [0, 3, 0, 0, 0, 6, 0x11, 0x03, 0x00, 0x6b, 0x00, 0x03]);
  assert.deepEqual([...instance.request(3, 0xffff)], [0xff, 0xff, 0, 0, 0, 6, 0x11, 0x04, 0x00, 0x08, 0x00, 0x01]);
});

test('the transaction id is the 16-bit seq the host gives', () => {
  const { instance } = modbusDecoder({ points: [{ function: 3, address: 0, type: 'uint16' }] });
  assert.deepEqual([...instance.request(0, 0x10002).subarray(0, 2)], [0x00, 0x02]);
});

test('a request index outside the plan is OUT_OF_RANGE', () => {
  const { instance } = modbusDecoder({ points: [{ function: 3, address: 0, type: 'uint16' }] });
  for (const index of [1, -1]) {
    assert.throws(() => instance.request(index, 1), (err: unknown) => {
      assert.ok(isWgError(err, 'WG_ERR_PLUGIN_STATUS'));
      assert.match(err.message, /WG_STATUS_OUT_OF_RANGE/);
      return true;
    });
  }
});

test('an empty point list plans no requests', () => {
  const { instance } = modbusDecoder({ points: [] });
  assert.equal(instance.requests().length, 0);
});

test('requests equal what modbus-serial\'s own client sends for the same reads', async () => {
  const captured: Buffer[] = [];
  let peer: Socket | undefined;
  const server = createServer((socket) => {
    peer = socket;
    socket.on('data', (chunk) => captured.push(chunk));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const client = new ModbusRTU();
  await client.connectTCP('127.0.0.1', { port });
  client.setID(0x11);
  client.setTimeout(200);
  try {
    const reads: Array<[() => Promise<unknown>, number]> = [
      [() => client.readCoils(19, 19), 1],
      [() => client.readDiscreteInputs(196, 22), 2],
      [() => client.readHoldingRegisters(107, 3), 3],
      [() => client.readInputRegisters(8, 1), 4],
    ];
    const sent: Buffer[] = [];
    for (const [read] of reads) {
      const before = captured.length;
      const pending = read().catch(() => undefined); // nobody answers; only the request matters
      const deadline = Date.now() + 5_000;
      while (captured.length === before) {
        assert.ok(Date.now() < deadline, 'modbus-serial sent nothing');
        await new Promise((r) => setImmediate(r));
      }
      sent.push(Buffer.concat(captured.splice(before)));
      await pending;
    }
    const { instance } = modbusDecoder({
      devices: [{ name: 'plc1', unit_id: 0x11 }],
      points: [
        ...Array.from({ length: 19 }, (_, i) => ({ function: 1, address: 19 + i, type: 'bool' })),
        ...Array.from({ length: 22 }, (_, i) => ({ function: 2, address: 196 + i, type: 'bool' })),
        ...Array.from({ length: 3 }, (_, i) => ({ function: 3, address: 107 + i, type: 'uint16' })),
        { function: 4, address: 8, type: 'uint16' },
      ],
    });
    sent.forEach((frame, r) => {
      const tid = frame.readUInt16BE(0);
      assert.deepEqual([...instance.request(r, tid)], [...frame], `request ${r} (function ${reads[r]![1]})`);
    });
  } finally {
    peer?.destroy();
    await new Promise<void>((resolve) => client.close(() => resolve()));
    server.close();
  }
});

test('frame length: under 7 bytes the MBAP header is incomplete, so more bytes are needed', () => {
  const { instance } = modbusDecoder({ points: [] });
  assert.equal(instance.frameLength(new Uint8Array(0)), 0);
  assert.equal(instance.frameLength(Uint8Array.of(0, 1, 0, 0, 0, 5)), 0);
});

test('frame length: 6 + the MBAP length once that many bytes are there, else 0', () => {
  const { instance } = modbusDecoder({ points: [] });
  // The spec's FC 3 response (03 06 02 2B 00 00 00 64) behind an MBAP with length 9: 15 bytes.
  const frame = [0, 1, 0, 0, 0, 9, 1, 0x03, 0x06, 0x02, 0x2b, 0x00, 0x00, 0x00, 0x64];
  assert.equal(instance.frameLength(Uint8Array.from(frame.slice(0, 7))), 0);
  assert.equal(instance.frameLength(Uint8Array.from(frame.slice(0, 14))), 0);
  assert.equal(instance.frameLength(Uint8Array.from(frame)), 15);
  // The start of the next frame already in the buffer does not change where this one ends.
  assert.equal(instance.frameLength(Uint8Array.from([...frame, 0, 2, 0])), 15);
  // The largest: length 254 (unit id + a 253-byte PDU) -> 260 bytes.
  const largest = new Uint8Array(260);
  largest[5] = 254;
  assert.equal(instance.frameLength(largest.subarray(0, 259)), 0);
  assert.equal(instance.frameLength(largest), 260);
});

test('frame length: a protocol id other than 0, or an MBAP length of 0 or over 254, is BAD_FRAME', () => {
  const { instance } = modbusDecoder({ points: [] });
  assert.equal(instance.frameLength(Uint8Array.of(0, 1, 0, 1, 0, 3, 1, 3, 0)), BAD_FRAME);
  assert.equal(instance.frameLength(Uint8Array.of(0, 1, 0x80, 0, 0, 3, 1, 3, 0)), BAD_FRAME);
  assert.equal(instance.frameLength(Uint8Array.of(0, 1, 0, 0, 0, 0, 1)), BAD_FRAME);
  assert.equal(instance.frameLength(Uint8Array.of(0, 1, 0, 0, 0, 255, 1)), BAD_FRAME);
  assert.equal(instance.frameLength(Uint8Array.of(0, 1, 0, 0, 1, 0, 1)), BAD_FRAME);
});

test('a device\'s unit_id goes into its requests; a float32 reads two registers', () => {
  const { instance } = modbusDecoder({ devices: [{ name: 'a', unit_id: 9 }], points: [{ function: 4, address: 300, type: 'float32' }] });
  assert.deepEqual(requestRange(instance.request(0, 1)), { unit: 9, fn: 4, start: 300, quantity: 2 });
});
