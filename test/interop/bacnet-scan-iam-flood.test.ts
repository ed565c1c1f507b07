// hostile8b: `wasmgate scan bacnet` against a hostile "device" on the LAN: a plain UDP socket (no
// stack would send this) that answers the Who-Is with 2 000 I-Ams, all for device instance 77, each
// claiming to come through a different BACnet router network (NPDU source network 1..2000, MAC 1).
// The first is the device; every other is a "duplicate instance" (a second address answering with
// it). Before, the scan kept and printed every one: the report grew with the flood. The duplicates
// listed are bounded as the devices are, by --max-devices.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { main } from '../../src/host/cli/main.js';

/** I-Am (20.1.2, 16.1.2) of device `instance`: max APDU 1476, no segmentation, vendor 9, from network `net` MAC 01. */
function iAm(instance: number, net: number): Buffer {
  const object = (8 << 22) | instance;
  const npdu = [0x01, 0x08, net >> 8, net & 0xff, 0x01, 0x01];
  const apdu = [0x10, 0x00, 0xc4, (object >>> 24) & 0xff, (object >> 16) & 0xff, (object >> 8) & 0xff, object & 0xff, 0x22, 0x05, 0xc4, 0x91, 0x03, 0x21, 0x09];
  const length = 4 + npdu.length + apdu.length;
  return Buffer.from([0x81, 0x0a, length >> 8, length & 0xff, ...npdu, ...apdu]);
}

test('hostile8b: an I-Am flood of one instance through 2 000 claimed routes lists at most --max-devices duplicates', async () => {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const { port } = socket.address();
  socket.on('message', (msg, from) => {
    // Who-Is is unconfirmed service 8: PDU type 1 (0x10), service choice 8.
    if (!msg.includes(Buffer.from([0x10, 0x08]))) return;
    for (let net = 1; net <= 2000; net++) socket.send(iAm(77, net), from.port, from.address);
  });
  try {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['scan', 'bacnet', '--target', '127.0.0.1', '--port', String(port), '--timeout', '1s', '--retries', '0', '--max-devices', '5', '--json'], { out: (l) => out.push(l), err: (l) => err.push(l) });
    assert.ok(code === 0 || code === 1, err.join('\n'));
    const report = JSON.parse(out.join('')) as { devices: unknown[]; duplicates: Array<{ instance: number }> };
    assert.equal(report.devices.length, 1);
    assert.ok(report.duplicates.length <= 5, `${report.duplicates.length} duplicates listed`);
    assert.ok(report.duplicates.length >= 1);
  } finally {
    socket.close();
  }
});
