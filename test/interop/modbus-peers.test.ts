/**
 * The Modbus peers the demo and the tests talk to are themselves right: our PLC simulator and the
 * pymodbus server are read by two independent clients (modbus-serial's ModbusRTU over TCP, and
 * Debian's mbpoll), and pymodbus's payload encoder is checked against hand-computed IEEE-754 words.
 * Expected values are written out by hand; nothing is computed by the code under test.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import modbusSerial from 'modbus-serial';
import { startPlcSimulator, type PlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { encodeWords, WORD_ORDERS, type RegisterType } from '../../src/host/demo/register-words.js';
import { findMbpoll, mbpollRead, MbpollFailure } from '../support/mbpoll.js';
import { pymodbusEncodeMany, startPymodbusServer, type PymodbusEncodeCase, type PymodbusServer } from '../support/pymodbus.js';
import { findPymodbusPython, needs } from '../support/tools.js';

// The package is CommonJS with `module.exports.default = module.exports`; under NodeNext the default
// import is the whole module, so the client class is its `default`.
const ModbusRTU = modbusSerial.default;
type ModbusRTU = InstanceType<typeof ModbusRTU>;

const hasMbpoll = !!findMbpoll();
const hasPymodbus = !!findPymodbusPython();

async function connect(port: number, timeoutMs = 2_000): Promise<ModbusRTU> {
  const client = new ModbusRTU();
  await client.connectTCP('127.0.0.1', { port });
  client.setID(1);
  client.setTimeout(timeoutMs);
  return client;
}

function disconnect(client: ModbusRTU): Promise<void> {
  return new Promise((resolve) => (client.isOpen ? client.close(() => resolve()) : resolve()));
}

/** The Modbus exception code a rejected modbus-serial read carried. */
async function exceptionOf(read: Promise<unknown>): Promise<number | undefined> {
  const error = await read.then(() => assert.fail('expected an exception response'), (e: { modbusCode?: number }) => e);
  return error.modbusCode;
}

describe('PLC simulator (fixed mode) read by modbus-serial', () => {
  let sim: PlcSimulator;
  let client: ModbusRTU;
  before(async () => {
    sim = await startPlcSimulator({
      mode: 'fixed',
      limits: { holding: 100, input: 100, coils: 100, discrete: 100 },
      registers: { holding: { 50: [0xbeef] }, coils: { 60: [true, true] } },
    });
    client = await connect(sim.port);
  });
  after(async () => {
    await disconnect(client);
    await sim.close();
  });

  test('holding registers (FC 3) return the words set, one or many', async () => {
    sim.setHolding(10, [0x1234, 0xabcd, 0x0000]);
    assert.deepEqual((await client.readHoldingRegisters(10, 3)).data, [0x1234, 0xabcd, 0x0000]);
    assert.deepEqual((await client.readHoldingRegisters(11, 1)).data, [0xabcd]);
    assert.deepEqual((await client.readHoldingRegisters(50, 1)).data, [0xbeef], 'initial contents from the options');
  });

  test('input registers (FC 4) are a table of their own', async () => {
    sim.setInput(10, [1, 65535]);
    assert.deepEqual((await client.readInputRegisters(10, 2)).data, [1, 65535]);
    assert.notDeepEqual((await client.readHoldingRegisters(10, 2)).data, [1, 65535]);
  });

  test('coils (FC 1) and discrete inputs (FC 2) return the bits set, across a byte boundary', async () => {
    sim.setCoil(3, true);
    sim.setCoil(9, true);
    assert.deepEqual((await client.readCoils(0, 12)).data.slice(0, 12), [false, false, false, true, false, false, false, false, false, true, false, false]);
    sim.setDiscrete(7, true);
    sim.setDiscrete(8, true);
    assert.deepEqual((await client.readDiscreteInputs(6, 4)).data.slice(0, 4), [false, true, true, false]);
    assert.deepEqual((await client.readCoils(60, 3)).data.slice(0, 3), [true, true, false], 'initial contents from the options');
  });

  test('writes (FC 5, 6, 16) land in the image', async () => {
    await client.writeRegister(20, 0x0102);
    await client.writeRegisters(21, [7, 8]);
    await client.writeCoil(40, true);
    assert.deepEqual(sim.readHolding(20, 3), [0x0102, 7, 8]);
    assert.equal(sim.readCoil(40), true);
  });

  test('an address past the limit is answered with exception 2 (Illegal Data Address)', async () => {
    assert.deepEqual((await client.readHoldingRegisters(99, 1)).data.length, 1, 'the last mapped address still reads');
    assert.equal(await exceptionOf(client.readHoldingRegisters(99, 2)), 2);
    assert.equal(await exceptionOf(client.readInputRegisters(100, 1)), 2);
    assert.equal(await exceptionOf(client.readCoils(98, 8)), 2);
    assert.equal(await exceptionOf(client.readDiscreteInputs(5000, 1)), 2);
    assert.equal(await exceptionOf(client.writeRegisters(99, [1, 2])), 2);
  });

  test('counts one request per frame, bit reads included', async () => {
    const before = sim.requests;
    await client.readCoils(0, 16);
    await client.readHoldingRegisters(0, 4);
    await client.readHoldingRegisters(0, 1);
    assert.equal(sim.requests - before, 3);
  });
});

describe('PLC simulator that stops answering or drops the link', () => {
  let sim: PlcSimulator;
  before(async () => {
    sim = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [42] } } });
  });
  after(() => sim.close());

  test('ignore mode: the request arrives, no answer comes, the client times out; answer mode recovers', async (t) => {
    const client = await connect(sim.port, 300);
    t.after(() => disconnect(client));
    sim.setResponseMode('ignore');
    const before = sim.requests;
    await assert.rejects(client.readHoldingRegisters(0, 1), (e: { errno?: string }) => e.errno === 'ETIMEDOUT');
    assert.equal(sim.requests - before, 1);
    sim.setResponseMode('answer');
    assert.deepEqual((await client.readHoldingRegisters(0, 1)).data, [42]);
  });

  test('disconnect mode: the request closes the connection; a new connection reads again', async (t) => {
    const client = await connect(sim.port, 1_000);
    t.after(() => disconnect(client));
    const closed = new Promise<void>((resolve) => client.on('close', () => resolve()));
    sim.setResponseMode('disconnect');
    await assert.rejects(client.readHoldingRegisters(0, 1));
    await closed;
    sim.setResponseMode('answer');
    const again = await connect(sim.port);
    t.after(() => disconnect(again));
    assert.deepEqual((await again.readHoldingRegisters(0, 1)).data, [42]);
  });

  test('dropConnections() closes every open client connection', async (t) => {
    const client = await connect(sim.port);
    t.after(() => disconnect(client));
    await client.readHoldingRegisters(0, 1);
    const closed = new Promise<void>((resolve) => client.on('close', () => resolve()));
    sim.dropConnections();
    await closed;
  });
});

describe('PLC simulator read by mbpoll', needs('mbpoll', hasMbpoll), () => {
  let sim: PlcSimulator;
  before(async () => {
    sim = await startPlcSimulator({ mode: 'fixed', limits: { holding: 100, input: 100, coils: 100, discrete: 100 } });
  });
  after(() => sim.close());

  test('16-bit registers print unsigned', async () => {
    sim.setHolding(0, [1, 65535, 32768]);
    assert.deepEqual(await mbpollRead({ port: sim.port, table: 'holding', address: 0, count: 3 }), [1, 65535, 32768]);
    sim.setInput(7, [300]);
    assert.deepEqual(await mbpollRead({ port: sim.port, table: 'input', address: 7 }), [300]);
  });

  test('int32 in ABCD and CDAB', async () => {
    // 123456 = 0x0001_E240; -2 = 0xFFFF_FFFE
    sim.setHolding(10, [0x0001, 0xe240, 0xffff, 0xfffe]);
    assert.deepEqual(await mbpollRead({ port: sim.port, table: 'holding', address: 10, count: 2, format: 'int32', wordOrder: 'ABCD' }), [123456, -2]);
    sim.setHolding(20, [0xe240, 0x0001]);
    assert.deepEqual(await mbpollRead({ port: sim.port, table: 'holding', address: 20, format: 'int32', wordOrder: 'CDAB' }), [123456]);
  });

  test('float32 in ABCD', async () => {
    // 3.14f = 0x4048_F5C3 (prints 3.14 at six digits); -2.5 = 0xC020_0000
    sim.setInput(30, [0x4048, 0xf5c3, 0xc020, 0x0000]);
    assert.deepEqual(await mbpollRead({ port: sim.port, table: 'input', address: 30, count: 2, format: 'float32', wordOrder: 'ABCD' }), [3.14, -2.5]);
  });

  test('coils and discrete inputs', async () => {
    sim.setCoil(1, true);
    sim.setDiscrete(2, true);
    assert.deepEqual(await mbpollRead({ port: sim.port, table: 'coils', address: 0, count: 3 }), [0, 1, 0]);
    assert.deepEqual(await mbpollRead({ port: sim.port, table: 'discrete', address: 0, count: 3 }), [0, 0, 1]);
  });

  test('an unmapped address fails with exception 2', async () => {
    await assert.rejects(mbpollRead({ port: sim.port, table: 'holding', address: 98, count: 4 }), (e) => e instanceof MbpollFailure && e.modbusException === 2);
  });

  test('ignore mode makes mbpoll time out', async (t) => {
    sim.setResponseMode('ignore');
    t.after(() => sim.setResponseMode('answer'));
    await assert.rejects(mbpollRead({ port: sim.port, table: 'holding', address: 0, timeoutSeconds: 0.2 }), (e) => e instanceof MbpollFailure && e.timedOut);
  });
});

describe('pymodbus server read by modbus-serial and mbpoll', needs('python3-pymodbus', hasPymodbus), () => {
  let server: PymodbusServer;
  let client: ModbusRTU;
  before(async () => {
    server = await startPymodbusServer({
      holding: { 0: [1, 2, 65535], 10: [0x4048, 0xf5c3] },
      input: { 5: [0x3f80, 0x0000] },
      coils: { 0: [true, false, true] },
      discrete: { 3: [true] },
      size: { holding: 50, input: 50, coils: 50, discrete: 50 },
    });
    client = await connect(server.port);
  });
  after(async () => {
    await disconnect(client);
    await server.stop();
  });

  test('modbus-serial reads each table', async () => {
    assert.deepEqual((await client.readHoldingRegisters(0, 3)).data, [1, 2, 65535]);
    assert.deepEqual((await client.readInputRegisters(5, 2)).data, [0x3f80, 0x0000]);
    assert.deepEqual((await client.readCoils(0, 3)).data.slice(0, 3), [true, false, true]);
    assert.deepEqual((await client.readDiscreteInputs(2, 3)).data.slice(0, 3), [false, true, false]);
  });

  test('past its size pymodbus answers exception 2 too', async () => {
    assert.equal(await exceptionOf(client.readHoldingRegisters(49, 2)), 2);
    assert.equal(await exceptionOf(client.readCoils(50, 1)), 2);
  });

  test('mbpoll reads the same words and decodes the float', needs('mbpoll', hasMbpoll), async () => {
    assert.deepEqual(await mbpollRead({ port: server.port, table: 'holding', address: 0, count: 3 }), [1, 2, 65535]);
    assert.deepEqual(await mbpollRead({ port: server.port, table: 'holding', address: 10, format: 'float32', wordOrder: 'ABCD' }), [3.14]);
    assert.deepEqual(await mbpollRead({ port: server.port, table: 'input', address: 5, format: 'float32', wordOrder: 'ABCD' }), [1]);
  });
});

describe('pymodbus payload encoding', needs('python3-pymodbus', hasPymodbus), () => {
  test('matches hand-computed words in every order', async () => {
    // Each value's big-endian bytes, worked out by hand, then laid out per order:
    // ABCD as is, CDAB words swapped, BADC bytes swapped in each word, DCBA both.
    const vectors: Array<[PymodbusEncodeCase, number[]]> = [
      [{ type: 'float32', value: 1, order: 'ABCD' }, [0x3f80, 0x0000]], // 1.0 = 3F 80 00 00
      [{ type: 'float32', value: 1, order: 'CDAB' }, [0x0000, 0x3f80]],
      [{ type: 'float32', value: 1, order: 'BADC' }, [0x803f, 0x0000]],
      [{ type: 'float32', value: 1, order: 'DCBA' }, [0x0000, 0x803f]],
      [{ type: 'float32', value: -2.5, order: 'ABCD' }, [0xc020, 0x0000]], // sign 1, exp 128, mantissa .25
      [{ type: 'int32', value: -2, order: 'ABCD' }, [0xffff, 0xfffe]],
      [{ type: 'int32', value: -2, order: 'CDAB' }, [0xfffe, 0xffff]],
      [{ type: 'uint32', value: 0x12345678, order: 'ABCD' }, [0x1234, 0x5678]],
      [{ type: 'uint32', value: 0x12345678, order: 'CDAB' }, [0x5678, 0x1234]],
      [{ type: 'uint32', value: 0x12345678, order: 'BADC' }, [0x3412, 0x7856]],
      [{ type: 'uint32', value: 0x12345678, order: 'DCBA' }, [0x7856, 0x3412]],
      [{ type: 'int16', value: -1, order: 'ABCD' }, [0xffff]],
      [{ type: 'int16', value: 0x0102, order: 'BADC' }, [0x0201]],
      [{ type: 'float64', value: 1, order: 'ABCD' }, [0x3ff0, 0x0000, 0x0000, 0x0000]], // 1.0 = 3FF0 0000 0000 0000
      [{ type: 'uint64', value: 0x0102030405060708n, order: 'CDAB' }, [0x0708, 0x0506, 0x0304, 0x0102]],
    ];
    const words = await pymodbusEncodeMany(vectors.map(([c]) => c));
    vectors.forEach(([c, expected], i) => assert.deepEqual(words[i], expected, `${c.type} ${c.value} ${c.order}`));
  });

  test("the simulator's encoder agrees with pymodbus's for every type and order", async () => {
    const values: Record<RegisterType, number[]> = {
      int16: [0, -1, 650, -32768, 32767],
      uint16: [0, 1, 1450, 65535],
      int32: [0, -2, 123456, -2147483648, 2147483647],
      uint32: [0, 360000, 12345678, 4294967295],
      float32: [0, 1, -2.5, 2.4981, 3.4e38, 1e-40],
    };
    const cases = Object.entries(values).flatMap(([type, list]) =>
      list.flatMap((value) => WORD_ORDERS.map((order) => ({ type: type as RegisterType, value, order }))),
    );
    const reference = await pymodbusEncodeMany(cases);
    cases.forEach((c, i) => assert.deepEqual(encodeWords(c.type, c.order, c.value), reference[i], `${c.type} ${c.value} ${c.order}`));
  });
});
