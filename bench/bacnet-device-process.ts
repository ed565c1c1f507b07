/**
 * A BACnet device simulator (@bacnet-js/client, test/support/bacnet-device.ts) in a process of its own,
 * so that a benchmark measures the gateway, not the simulator sharing its thread. Serves `OBJECTS`
 * analog inputs (present-value REAL) as device 1, prints its port on stdout, runs until killed.
 */
import { real, startBacnetDevice } from '../test/support/bacnet-device.js';

const count = Number(process.argv[2] ?? 16);
const device = await startBacnetDevice(1, Array.from({ length: count }, (_, i) => ({ type: 0, instance: i, properties: { 85: real(20 + i / 4) } })));
process.stdout.write(`${device.port}\n`);
