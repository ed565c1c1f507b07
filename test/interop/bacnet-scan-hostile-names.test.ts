// hostile8b: `wasmgate scan bacnet` against a device (@bacnet-js/client, test/support/bacnet-device.ts)
// whose object and device names carry what a hostile or careless device may put in a CharacterString:
// an ANSI escape sequence (ESC [ 2 J clears a terminal, ESC ] 0 ; ... BEL retitles it), a newline that
// would forge a line of the report, the 8-bit CSI U+009B, a right-to-left override (U+202E) that makes
// a terminal show text reversed, and YAML's own characters (": ", " #", quotes). The text report must
// show none of those characters raw to the terminal; --json must give each name back exactly; and
// --pipeline-yaml must still validate, its descriptions the device's text unchanged.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { main } from '../../src/host/cli/main.js';
import { characterString, real, startBacnetDevice, type BacnetDevice, type SimObject } from '../support/bacnet-device.js';

const CLEAR = '\u001b[2J\u001b[H';
const RETITLE = '\u001b]0;owned\u0007';
const NAMES = {
  device: `AHU${CLEAR}`,
  forged: 'supply\ndevice 9999 "fake" at 10.0.0.1:47808',
  csi: 'fan\u009b2J',
  bidi: 'valve\u202etxt.exe',
  title: `damper${RETITLE}`,
};
const DESCRIPTION = 'key: value # not a comment "quoted" \'single\'\n- not a list';
const OBJECTS: SimObject[] = [
  { type: 8, instance: 4242, properties: { 77: characterString(NAMES.device) } },
  { type: 0, instance: 1, properties: { 77: characterString(NAMES.forged), 85: real(1), 28: characterString(DESCRIPTION) } },
  { type: 0, instance: 2, properties: { 77: characterString(NAMES.csi), 85: real(2) } },
  { type: 0, instance: 3, properties: { 77: characterString(NAMES.bidi), 85: real(3) } },
  { type: 0, instance: 4, properties: { 77: characterString(NAMES.title), 85: real(4) } },
];

let device: BacnetDevice;
before(async () => {
  device = await startBacnetDevice(4242, OBJECTS);
});
after(async () => {
  await device?.close();
});

async function scan(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['scan', 'bacnet', '--timeout', '1s', '--retries', '0', '--target', '127.0.0.1', '--port', String(device.port), ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

// C0 controls (newline included), DEL, C1 controls, and the bidirectional overrides and isolates.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

test('text: no control, escape or bidi character of a device\'s names reaches the terminal, and each object is one line', async () => {
  const { code, out } = await scan();
  assert.equal(code, 0, out.join('\n'));
  for (const line of out) assert.doesNotMatch(line, UNSAFE, `unsafe character in ${JSON.stringify(line)}`);
  // A header, the device line, then one line per object (4): the newline in a name forged none.
  const lines = out.flatMap((l) => l.split('\n'));
  assert.equal(lines.length, 6, lines.join('\n'));
  assert.equal(lines.filter((l) => l.startsWith('device ')).length, 1);
  // The names are still shown, escaped (\u001b as JSON writes it).
  assert.match(lines[1]!, /device 4242 "AHU\\u001b\[2J\\u001b\[H"/);
  assert.ok(lines.some((l) => l.includes('"fan\\u009b2J"')), lines.join('\n'));
  assert.ok(lines.some((l) => l.includes('"valve\\u202etxt.exe"')), lines.join('\n'));
});

test('--json: one valid JSON document giving every hostile name back exactly', async () => {
  const { code, out } = await scan('--json');
  assert.equal(code, 0);
  assert.equal(out.length, 1);
  assert.doesNotMatch(out[0]!, UNSAFE);
  const report = JSON.parse(out[0]!) as { devices: Array<{ name: string; objects: Array<{ name: string; description: string | null }> }> };
  assert.equal(report.devices[0]!.name, NAMES.device);
  assert.deepEqual(report.devices[0]!.objects.map((x) => x.name), [NAMES.forged, NAMES.csi, NAMES.bidi, NAMES.title]);
  assert.equal(report.devices[0]!.objects[0]!.description, DESCRIPTION);
});

test('--pipeline-yaml: validates, the description means the same, the names made config names', async () => {
  const { code, out } = await scan('--pipeline-yaml');
  assert.equal(code, 0);
  const yaml = out.join('\n');
  const doc = parse(yaml) as { source: { bacnet_ip: { devices: Array<{ name: string; points: Array<{ name: string; description?: string }> }> } } };
  const d = doc.source.bacnet_ip.devices[0]!;
  for (const name of [d.name, ...d.points.map((p) => p.name)]) assert.match(name, /^[A-Za-z0-9._-]+$/);
  assert.equal(d.points[0]!.description, DESCRIPTION);
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-scan-hostile-'));
  try {
    await writeFile(join(dir, 'scan.yaml'), yaml);
    await writeFile(join(dir, 'gateway.yaml'), `gateway:\n  id: site\n  data_dir: ./data\nuplinks:\n  cloud:\n    mqtt:\n      url: mqtt://127.0.0.1:1\npipelines:\n  - ./scan.yaml\n`);
    const lines: string[] = [];
    const validated = await main(['validate', '--config', join(dir, 'gateway.yaml')], { out: (l) => lines.push(l), err: (l) => lines.push(l) });
    assert.equal(validated, 0, lines.join('\n'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
