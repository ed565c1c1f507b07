/**
 * docs/rules.md stays true (issue 10, D): every YAML block of it is marked with what it is and loads
 * with the real config loader and the built-in plugins, in a pipeline whose devices have the points
 * the page says (a `source:` block brings its own devices); each rule of the refused examples fails alone, with one problem on its own line
 * whose message holds what its `# refused:` comment quotes. A YAML block without a mark fails the
 * test, so no example escapes it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import { markedBlocks } from '../support/doc-blocks.js';
import { ConfigWorkspace, REPO_ROOT } from './config-workspace.js';

const DOC = join(REPO_ROOT, 'docs/rules.md');

/** The pipeline around the examples: its points are the ones docs/rules.md lists. */
const SOURCE = [
  'pipeline: { name: boiler-room }',
  'source:',
  '  modbus_tcp:',
  '    devices:',
  '      - name: plc1',
  '        host: 127.0.0.1',
  '        interval: 100ms',
  '        points:',
  '          - { name: boiler.temp, function: 3, address: 0, type: int16 }',
  '          - { name: boiler.pressure, function: 4, address: 1, type: int16 }',
  '          - { name: boiler.running, function: 2, address: 0, type: bool }',
  '          - { name: boiler.stop, function: 1, address: 0, type: bool, access: read_write }',
  '          - { name: boiler.maintenance, function: 2, address: 1, type: bool }',
  '          - { name: boiler.setpoint, function: 3, address: 3, type: int16, scale: 0.1, access: write }',
  '          - { name: pump.running, function: 1, address: 1, type: bool }',
  '          - { name: tank-level, function: 3, address: 2, type: uint16, access: write }',
  '          - { name: line.vibration, function: 4, address: 4, type: float32 }',
  '          - { name: line.stop, function: 3, address: 10, type: uint16, access: write }',
  '      - name: plc2',
  '        host: 127.0.0.2',
  '        points:',
  '          - { name: boiler.temp, function: 3, address: 0, type: int16 }',
];
const STEPS = 'steps: [ { plugin: modbus }, { plugin: json } ]';
const PUBLISH = 'publish: { uplink: cloud, topic: "plant/{device}/{point}" }';

/** A gateway file with the built-in plugins (no plugin_dirs). */
const GATEWAY = ['gateway: { id: gw1 }', 'uplinks:', '  cloud:', '    mqtt: { url: "mqtt://127.0.0.1:1883", qos: 1 }', 'pipelines: [ p.yaml ]'];

interface Loaded { ok: boolean; problems: Array<{ line: number; message: string; file: string }> }

async function load(pipeline: string[], files: ReadonlyMap<string, string>): Promise<Loaded> {
  const ws = await ConfigWorkspace.create();
  try {
    for (const [name, text] of files) await ws.write(name, text.trimEnd().split('\n'));
    await ws.write('p.yaml', pipeline);
    const result = await loadGatewayConfig(await ws.write('gw.yaml', GATEWAY));
    return result.ok ? { ok: true, problems: [] } : { ok: false, problems: result.problems.map((p) => ({ line: p.line, message: p.message, file: p.file })) };
  } finally {
    await ws.remove();
  }
}

const lines = (text: string) => text.trimEnd().split('\n');

test('every YAML block of docs/rules.md is marked, and each example loads as the page says', async () => {
  const doc = await readFile(DOC, 'utf8');
  const yamlBlocks = [...doc.matchAll(/^```yaml$/gm)].length;
  const blocks = markedBlocks(doc).filter((b) => b.lang === 'yaml');
  assert.equal(blocks.length, yamlBlocks, 'every ```yaml block has a <!-- kind: name --> mark on the line before');
  const files = new Map(blocks.filter((b) => b.kind === 'include').map((b) => [b.name, b.text]));
  const loadable = blocks.filter((b) => b.kind !== 'include' && b.kind !== 'refused');
  assert.deepEqual(loadable.map((b) => `${b.kind}: ${b.name}`), ['rules: intro', 'rules: every-form', 'pipeline: anomaly', 'rule: actions', 'source: bacnet']);
  for (const block of loadable) {
    let pipeline: string[];
    if (block.kind === 'rules') pipeline = [...SOURCE, STEPS, PUBLISH, ...lines(block.text)];
    else if (block.kind === 'pipeline') pipeline = [...SOURCE, PUBLISH, ...lines(block.text)];
    else if (block.kind === 'source') pipeline = ['pipeline: { name: boiler-room }', 'steps: [ { plugin: bacnet }, { plugin: json } ]', PUBLISH, ...lines(block.text)];
    else if (block.kind === 'rule') pipeline = [...SOURCE, STEPS, PUBLISH, 'rules:', '  - name: example', '    when: plc1:boiler.temp > 95', ...lines(block.text)];
    else throw new Error(`unknown block kind ${block.kind}`);
    const loaded = await load(pipeline, files);
    assert.ok(loaded.ok, `${block.kind}: ${block.name}:\n${loaded.problems.map((p) => `${p.file}:${p.line} ${p.message}`).join('\n')}`);
  }
});

test('each refused example of docs/rules.md fails alone, on its line, as its comment says', async () => {
  const doc = await readFile(DOC, 'utf8');
  const refused = markedBlocks(doc).filter((b) => b.kind === 'refused');
  assert.equal(refused.length, 1);
  const [head, ...rules] = lines(refused[0]!.text);
  assert.equal(head, 'rules:');
  assert.ok(rules.length >= 15, `${rules.length} refused examples`);
  for (const rule of rules) {
    const quoted = /# refused: (.+)$/.exec(rule)?.[1];
    assert.ok(quoted, `no # refused: comment on ${rule}`);
    const pipeline = [...SOURCE, STEPS, PUBLISH, 'rules:', rule];
    const loaded = await load(pipeline, new Map());
    const where = loaded.problems.map((p) => `${p.line} ${p.message}`).join('\n');
    assert.equal(loaded.problems.length, 1, `${rule}\n${where}`);
    assert.equal(loaded.problems[0]!.line, pipeline.length, `${rule}\n${where}`);
    assert.ok(loaded.problems[0]!.message.includes(quoted), `${rule}\nsays: ${where}`);
  }
});
