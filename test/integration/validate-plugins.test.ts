// `wasmgate validate` (and `run`, before it starts anything) configures every step's plugin as the
// gateway would, so problems only a plugin can judge are reported with the file, line and column of
// the step: an unknown unit for si, a point in scale's `with.points` that the pipeline lacks.
import test from 'node:test';
import assert from 'node:assert/strict';
import { runValidate } from '../../src/host/cli/validate.js';
import { gatewayYaml, writeGatewayFixture } from '../support/gateway-fixture.js';
import { placeWatPlugin } from '../support/hostile-gateway.js';

function pipeline(steps: string, unit = 'bar'): string {
  return `pipeline:
  name: p
source:
  modbus_tcp:
    devices:
      - name: plc
        host: 127.0.0.1
        points:
          - { name: line.pressure, function: 3, address: 0, type: float32, unit: ${unit} }
steps:
${steps}
publish:
  uplink: cloud
  topic: "t/{point}"
`;
}

async function validate(pipelineText: string): Promise<{ code: number; lines: string[] }> {
  const fixture = await writeGatewayFixture(gatewayYaml('mqtt://127.0.0.1:1883'), pipelineText);
  try {
    const lines: string[] = [];
    const code = await runValidate({ config: fixture.gatewayFile }, (l) => lines.push(l.replace(fixture.dir, '<dir>')));
    return { code, lines };
  } finally {
    await fixture.dispose();
  }
}

test('a unit si does not know is refused by validate, at the si step, naming the point and the unit', async () => {
  const { code, lines } = await validate(pipeline('  - plugin: modbus\n  - plugin: si\n  - plugin: json', 'barr'));
  assert.equal(code, 1);
  // line 12 column 5 is the `plugin: si` of the second step in the text above (counted by hand)
  assert.match(lines[0]!, /pipeline\.yaml:12:5 steps\[1\]: plugin si rejected its settings: .*"line\.pressure".*"barr"/);
  assert.match(lines[0]!, /\[WG_ERR_PLUGIN_CONFIGURE\]$/);
});

test('a conversion between quantities is refused at the with: of the step', async () => {
  const { code, lines } = await validate(pipeline('  - plugin: modbus\n  - plugin: si\n    with: { to: kW }\n  - plugin: json'));
  assert.equal(code, 1);
  // line 13 column 5: the `with` key of the si step
  assert.match(lines[0]!, /pipeline\.yaml:13:5 steps\[1\]\.with: plugin si rejected its settings: .*bar.*kW/);
});

test('units pass from step to step as the worker passes them: scale to kPa, then si to psi is valid', async () => {
  const steps = '  - plugin: modbus\n  - plugin: scale\n    with: { points: { line.pressure: { factor: 100, unit: kPa } } }\n  - plugin: si\n    with: { to: psi }\n  - plugin: json';
  const { code, lines } = await validate(pipeline(steps));
  assert.equal(code, 0, lines.join('\n'));
  assert.match(lines[0]!, /valid/);
});

test('a point name in with.points that the pipeline lacks is refused, naming it', async () => {
  const { code, lines } = await validate(pipeline('  - plugin: modbus\n  - plugin: scale\n    with: { points: { line.presure: { factor: 2 } } }\n  - plugin: json'));
  assert.equal(code, 1);
  assert.match(lines[0]!, /steps\[1\]\.with: plugin scale rejected its settings: with\.points\.line\.presure: no point of that name/);
});

// Regression: the dry configure ran on the main thread, so a plugin whose wg_configure loops hung
// `validate` (the unit's ExecStartPre) and `run` forever at 100 % CPU, and one that trapped there
// printed a stack trace.
async function validateWithFixture(stem: string): Promise<{ code: number; lines: string[] }> {
  const fixture = await writeGatewayFixture(gatewayYaml('mqtt://127.0.0.1:1883'), pipeline(`  - plugin: modbus\n  - path: ./${stem}.wasm\n  - plugin: json`));
  try {
    await placeWatPlugin(fixture.dir, stem, 'transform');
    const lines: string[] = [];
    const code = await runValidate({ config: fixture.gatewayFile }, (l) => lines.push(l.replace(fixture.dir, '<dir>')));
    return { code, lines };
  } finally {
    await fixture.dispose();
  }
}

test('a plugin whose wg_configure never returns is stopped at the configure deadline and reported at its step', async () => {
  const { code, lines } = await validateWithFixture('loop-forever-configure');
  assert.equal(code, 1);
  // line 12 column 5: the `path:` of the second step in the text above (counted by hand)
  assert.match(lines[0]!, /pipeline\.yaml:12:5 steps\[1\]: .*loop-forever-configure.*configuring took longer than 5000 ms \[WG_ERR_PLUGIN_TIMEOUT\]$/);
});

test('a plugin that traps in wg_configure is reported at its step, not as a crash', async () => {
  const { code, lines } = await validateWithFixture('trap-in-configure');
  assert.equal(code, 1);
  assert.match(lines[0]!, /pipeline\.yaml:12:5 steps\[1\]: plugin trap-in-configure trapped in wg_configure: .* \[WG_ERR_PLUGIN_TRAP\]$/);
});
