/**
 * A broker password never leaves the gateway but to the broker: not in the daemon's log (debug level,
 * a refused login, a stop), not in `wasmgate status --json`, not in `wasmgate validate`'s output for a
 * file with a problem. Real daemon (child process), mosquitto with a password file, the PLC
 * simulator. Each of the four ways to give it is tried: in the file, from a file, from the environment
 * (password_env, and `${NAME}` in the value).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startPlcSimulator } from '../../src/host/demo/plc-simulator.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import { onePointPipelineYaml, writeGatewayFixture } from '../support/gateway-fixture.js';
import { mosquittoPath, startMosquitto } from '../support/mosquitto.js';
import { needs } from '../support/tools.js';
import { waitFor } from '../support/wait.js';
import { runWasmgate } from '../support/wasmgate-cli.js';

const gate = needs('mosquitto', !!mosquittoPath());
const SECRET = 'Zq9-secret-7Kw';

function gatewayFile(url: string, credentials: string): string {
  return `gateway:
  id: gw-secret
  data_dir: ./data
  log: { level: debug, format: json }
uplinks:
  cloud:
    mqtt:
      url: ${url}
      qos: 1
      username: gateway
${credentials}
      reconnect: { min: 50ms, max: 200ms }
pipelines: [ ./pipeline.yaml ]
`;
}

for (const [how, credentials, env] of [
  ['written in the file', `      password: ${SECRET}`, {}],
  ['read from password_file', '      password_file: ./password', {}],
  ['read from password_env', '      password_env: WG_TEST_BROKER_PASSWORD', { WG_TEST_BROKER_PASSWORD: SECRET }],
  ['given as ${NAME}', '      password: ${WG_TEST_BROKER_PASSWORD}', { WG_TEST_BROKER_PASSWORD: SECRET }],
] as const) {
  test(`a broker password ${how} appears in no log line, status or validate output, accepted or refused`, gate, async (t) => {
    const plc = await startPlcSimulator({ mode: 'fixed', registers: { holding: { 0: [5] } } });
    t.after(() => plc.close());
    for (const accepted of [true, false]) {
      const broker = await startMosquitto({ users: { gateway: accepted ? SECRET : 'another-password' } });
      const fixture = await writeGatewayFixture(gatewayFile(broker.url, credentials), onePointPipelineYaml(plc.port));
      try {
        await writeFile(join(fixture.dir, 'password'), `${SECRET}\n`);
        const daemon = startGatewayProcess(fixture.gatewayFile, env);
        await daemon.waitForLine((l) => l.includes('"gateway started"'), 'gateway started', 30_000);
        const outcome = accepted ? 'mqtt uplink connected' : 'mqtt uplink connection problem';
        await waitFor(() => daemon.lines.some((l) => l.includes(outcome)), 15_000, () => daemon.lines.slice(-3).join('\n'));
        const status = await runWasmgate(['status', '--config', fixture.gatewayFile, '--json']);
        assert.equal(status.code, 0, status.stderr);
        assert.equal(await daemon.stop(), 0);
        const said = [...daemon.lines, status.stdout, status.stderr].join('\n');
        assert.ok(!said.includes(SECRET), `the password is in the output (${accepted ? 'accepted' : 'refused'}):\n${said.split('\n').filter((l) => l.includes(SECRET)).join('\n')}`);
        // validate of the same file with a problem next to the password.
        await writeFile(fixture.gatewayFile, gatewayFile(broker.url, `${credentials}\n      keepalive: 1.5s`));
        const validate = await runWasmgate(['validate', '--config', fixture.gatewayFile]);
        assert.equal(validate.code, 1);
        assert.ok(!`${validate.stdout}${validate.stderr}`.includes(SECRET), validate.stdout);
      } finally {
        await fixture.dispose();
        await broker.dispose();
      }
    }
  });
}
