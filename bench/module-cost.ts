/**
 * What a lever in code saves, measured as what the thing it removes costs a process: each probe runs in
 * a fresh Node process started with the daemon's flags, collects garbage, reads its private memory
 * (RssAnon) and its heap, does the thing, collects again and reads again.
 * - MQTT.js's `writeCache` (mqtt-packet's cache of every two-byte number, built at the first packet):
 *   one packet written with the cache and without it.
 * - The configuration's modules (yaml, ajv and the compiled schemas): the shipped demo gateway file
 *   loaded and resolved, as the daemon does at start, and everything it kept.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = join(here, '..', '..');

const MEASURE = `
import { readFileSync } from 'node:fs';
const anon = () => Number(/RssAnon:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
const settle = () => { for (let i = 0; i < 4; i++) globalThis.gc(); };
const heap = () => process.memoryUsage().heapUsed;
export async function probe(work) {
  settle();
  const a0 = anon(), h0 = heap();
  const keep = await work();
  settle();
  console.log(JSON.stringify({ anon: anon() - a0, heap: heap() - h0, kept: keep !== undefined }));
}
`;

const PROBES: Record<string, string> = {
  'MQTT.js number cache (writeCache: true), heap it keeps': `
    const { createRequire } = await import('node:module');
    const mqttPacket = createRequire(${JSON.stringify(join(ROOT, 'package.json'))})('mqtt-packet');
    const { Writable } = await import('node:stream');
    const sink = new Writable({ write(_c, _e, cb) { cb(); } });
    const packet = { cmd: 'publish', topic: 't', payload: Buffer.from('x'), qos: 1, messageId: 1 };
    mqttPacket.writeToStream.cacheNumbers = process.argv.includes('cache');
    const { probe } = await import('data:text/javascript,' + encodeURIComponent(MEASURE));
    await probe(() => { mqttPacket.writeToStream(packet, sink); return mqttPacket; });`,
  'config modules kept by the daemon (yaml, ajv, compiled schemas; shipped demo config loaded)': `
    const { probe } = await import('data:text/javascript,' + encodeURIComponent(MEASURE));
    await probe(async () => {
      const config = await import(${JSON.stringify(join(ROOT, 'dist/src/host/config/index.js'))});
      const result = await config.loadGatewayConfig(${JSON.stringify(join(ROOT, 'config/demo.yaml'))});
      if (!result.ok) throw new Error('demo config does not load');
      return config;
    });`,
};

export interface ModuleCost { name: string; mb: number }

/** Runs each probe; for the number cache, the figure is with the cache less without it. */
export async function measureModuleCosts(flags: string[], env: Record<string, string>): Promise<ModuleCost[]> {
  const run = (code: string, arg: string): { anon: number; heap: number } => {
    const script = `const MEASURE = ${JSON.stringify(MEASURE)};\n${code}`;
    const out = spawnSync(process.execPath, [...flags, '--expose-gc', '--input-type=module', '-e', script, '--', arg], { encoding: 'utf8', env: { ...process.env, ...env } });
    if (out.status !== 0) throw new Error(`module cost probe failed: ${out.stderr}`);
    return JSON.parse(out.stdout.trim().split('\n').pop()!) as { anon: number; heap: number };
  };
  const MB = 1024 * 1024;
  const costs: ModuleCost[] = [];
  for (const [name, code] of Object.entries(PROBES)) {
    if (name.startsWith('MQTT.js')) {
      const on = run(code, 'cache');
      const off = run(code, 'nocache');
      costs.push({ name, mb: (on.heap - off.heap) / MB });
      costs.push({ name: 'MQTT.js number cache, RssAnon it adds', mb: (on.anon - off.anon) / MB });
    } else {
      const r = run(code, '');
      costs.push({ name: `${name}, heap`, mb: r.heap / MB });
      costs.push({ name: `${name}, RssAnon`, mb: r.anon / MB });
    }
  }
  return costs;
}
