/**
 * A fleet of simulated PLCs for the gateway benchmark, in a process of its own: `node plc-fleet.js N`
 * starts N Modbus TCP simulators (fixed mode, 500 holding registers each) on free ports and prints
 * their ports as one JSON line; it runs until killed.
 */
import { startPlcSimulator } from '../src/host/demo/plc-simulator.js';

const count = Number(process.argv[2] ?? 1);
const words = Array.from({ length: 500 }, (_, i) => 200 + (i % 50));
const plcs = await Promise.all(Array.from({ length: count }, () => startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: words } } })));
console.log(JSON.stringify(plcs.map((p) => p.port)));
process.on('SIGTERM', () => void Promise.all(plcs.map((p) => p.close())).then(() => process.exit(0)));
