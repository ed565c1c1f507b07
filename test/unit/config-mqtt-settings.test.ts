/**
 * The MQTT uplink's settings for protocol, sessions, message expiry, the status and last will, and a
 * password from an environment variable, through the loader (src/host/uplinks/mqtt-uplink.ts): values
 * as written, and each refusal at its line and column (line N is element N-1 of the array; columns
 * count from 1). The defaults are in config-resolve.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadGatewayConfig } from '../../src/host/config/index.js';
import type { ResolvedMqttUplink } from '../../src/host/config/resolved.js';
import { ConfigWorkspace, FIXTURE_PLUGINS, REPO_ROOT, pipelineLines } from './config-workspace.js';
import { makeTlsFiles, opensslPath } from '../support/tls-certs.js';
import { needs } from '../support/tools.js';
import { join } from 'node:path';

function gateway(mqttLines: string[], url: string): string[] {
  return [
    'gateway:', // 1
    '  id: gw-7', // 2
    `  plugin_dirs: [ ${JSON.stringify(FIXTURE_PLUGINS)} ]`, // 3
    'uplinks:', // 4
    '  cloud:', // 5
    '    mqtt:', // 6
    `      url: ${url}`, // 7
    ...mqttLines, // 8...
    'pipelines: [ p.yaml ]',
  ];
}

async function load(mqttLines: string[], url = 'mqtt://127.0.0.1:1883') {
  const ws = await ConfigWorkspace.create();
  try {
    await ws.write('p.yaml', [...pipelineLines(), '  topic: "plant/{device}/{point}"']);
    return await loadGatewayConfig(await ws.write('gw.yaml', gateway(mqttLines, url)));
  } finally {
    await ws.remove();
  }
}

async function uplink(mqttLines: string[]): Promise<ResolvedMqttUplink> {
  const result = await load(mqttLines);
  assert.ok(result.ok, result.ok ? '' : result.problems.map((p) => `${p.line}:${p.column} ${p.message}`).join('\n'));
  const [resolved] = result.config.uplinks;
  assert.ok(resolved?.transport === 'mqtt');
  return resolved;
}

async function problem(mqttLines: string[], url?: string): Promise<string> {
  const result = await load(mqttLines, url);
  assert.equal(result.ok, false, 'refused');
  const [p] = result.ok ? [] : result.problems;
  return `${p!.line}:${p!.column} ${p!.path}: ${p!.message}`;
}

test('protocol as written: 5 (a YAML number), "5", "3.1.1", auto', async () => {
  assert.equal((await uplink(['      protocol: 5'])).protocol, '5');
  assert.equal((await uplink(['      protocol: "5"'])).protocol, '5');
  assert.equal((await uplink(['      protocol: 3.1.1'])).protocol, '3.1.1');
  assert.equal((await uplink(['      protocol: auto'])).protocol, 'auto');
});

test('a persistent session: clean_session false keeps the session 24 h unless session_expiry says otherwise', async () => {
  const kept = await uplink(['      clean_session: false']);
  assert.deepEqual([kept.cleanSession, kept.sessionExpiryMs], [false, 86_400_000]);
  const hour = await uplink(['      clean_session: false', '      session_expiry: 1h']);
  assert.deepEqual([hour.cleanSession, hour.sessionExpiryMs], [false, 3_600_000]);
  // 3.1.1 has no expiry to send: the broker keeps the session by its own rules.
  const old = await uplink(['      protocol: 3.1.1', '      clean_session: false']);
  assert.deepEqual([old.cleanSession, old.sessionExpiryMs], [false, 86_400_000]);
});

test('message_expiry in whole seconds', async () => {
  assert.equal((await uplink(['      message_expiry: 10m'])).messageExpiryMs, 600_000);
});

test('status: the placeholders filled in, stopped defaults to the offline word, topic false turns status and will off', async () => {
  assert.deepEqual((await uplink(['      status: { topic: "site/{gateway}/{uplink}/alive", online: up, offline: down }'])).status, {
    topic: 'site/gw-7/cloud/alive', online: 'up', offline: 'down', stopped: 'down',
  });
  assert.deepEqual((await uplink(['      status: { stopped: stopped }'])).status, {
    topic: 'wasmgate/gw-7/status', online: 'online', offline: 'offline', stopped: 'stopped',
  });
  assert.equal((await uplink(['      status: { topic: false }'])).status, null);
});

test('password_env: the variable is read when the configuration is loaded', async () => {
  process.env.WASMGATE_TEST_MQTT_PASSWORD = 'from the environment';
  try {
    const resolved = await uplink(['      username: gw', '      password_env: WASMGATE_TEST_MQTT_PASSWORD']);
    assert.equal(resolved.password, 'from the environment');
  } finally {
    delete process.env.WASMGATE_TEST_MQTT_PASSWORD;
  }
});

test('password_env refusals name the setting at its position', async () => {
  delete process.env.WASMGATE_TEST_UNSET;
  assert.match(await problem(['      username: gw', '      password_env: WASMGATE_TEST_UNSET']),
    /^9:21 uplinks\.cloud\.mqtt\.password_env: .*environment variable WASMGATE_TEST_UNSET, which is not set/);
  process.env.WASMGATE_TEST_EMPTY = '';
  try {
    assert.match(await problem(['      username: gw', '      password_env: WASMGATE_TEST_EMPTY']), /^9:21 uplinks\.cloud\.mqtt\.password_env: .*which is empty/);
  } finally {
    delete process.env.WASMGATE_TEST_EMPTY;
  }
  assert.match(await problem(['      username: gw', '      password: p', '      password_env: HOME']),
    /^10:21 uplinks\.cloud\.mqtt\.password_env: password_env and password exclude each other.*see uplinks\.cloud\.mqtt\.password \(line 9\)/);
  assert.match(await problem(['      password_env: HOME']), /^8:21 uplinks\.cloud\.mqtt\.password_env: password_env needs username/);
  assert.match(await problem(['      username: gw', '      password_env: 2FA']), /^9:21 uplinks\.cloud\.mqtt\.password_env: /);
});

test('protocol, session and expiry refusals name the setting at its position', async () => {
  assert.match(await problem(['      protocol: 4']), /^8:17 uplinks\.cloud\.mqtt\.protocol: /);
  assert.match(await problem(['      session_expiry: 1h']),
    /^8:23 uplinks\.cloud\.mqtt\.session_expiry: .*clean_session is true \(the default\)/);
  assert.match(await problem(['      clean_session: false', '      session_expiry: 1500ms']), /^9:23 uplinks\.cloud\.mqtt\.session_expiry: must be whole seconds/);
  assert.match(await problem(['      clean_session: false', '      session_expiry: 0s']), /^9:23 uplinks\.cloud\.mqtt\.session_expiry: must be longer than 0ms/);
  assert.match(await problem(['      message_expiry: 150000000000s']), /^8:23 uplinks\.cloud\.mqtt\.message_expiry: must be at most 4294967294s/);
  assert.match(await problem(['      protocol: 3.1.1', '      message_expiry: 1h']),
    /^9:23 uplinks\.cloud\.mqtt\.message_expiry: message_expiry is MQTT 5 and protocol is 3\.1\.1.*\(line 8\)/);
  assert.match(await problem(['      protocol: 3.1.1', '      clean_session: false', '      session_expiry: 1h']),
    /^10:23 uplinks\.cloud\.mqtt\.session_expiry: session_expiry is MQTT 5/);
  assert.match(await problem(['      protocol: 3.1.1', '      outbox: { mark: properties }']),
    /^9:23 uplinks\.cloud\.mqtt\.outbox\.mark: mark: properties needs MQTT 5/);
});

test('status refusals name the setting at its position', async () => {
  assert.match(await problem(['      status:', '        topic: "x/#"']), /^9:16 uplinks\.cloud\.mqtt\.status\.topic: .*no wildcards/);
  assert.match(await problem(['      status:', '        topic: "x/{device}"']), /^9:16 uplinks\.cloud\.mqtt\.status\.topic: .*only \{gateway\} and \{uplink\}/);
  assert.match(await problem(['      status:', '        topic: true']), /^9:16 uplinks\.cloud\.mqtt\.status\.topic: /);
  assert.match(await problem(['      status:', '        online: ""']), /^9:17 uplinks\.cloud\.mqtt\.status\.online: /);
  assert.match(await problem(['      status:', '        offline: online']),
    /^9:18 uplinks\.cloud\.mqtt\.status\.offline: online and offline are both "online"/);
  assert.match(await problem(['      status:', '        stopped: ""']), /^9:18 uplinks\.cloud\.mqtt\.status\.stopped: /);
  assert.match(await problem(['      status:', '        retain: false']), /^9:9 uplinks\.cloud\.mqtt\.status/);
});

test('TLS files are read at load: a CA file without a certificate, a key that is not the certificate\'s', needs('openssl', !!opensslPath()), async () => {
  const files = makeTlsFiles();
  try {
    const url = 'mqtts://127.0.0.1:8883';
    // package.json: readable, and no certificate.
    assert.match(await problem([`      tls: { ca: ${join(REPO_ROOT, 'package.json')} }`], url), /^8:18 uplinks\.cloud\.mqtt\.tls\.ca: holds no PEM certificate/);
    assert.match(await problem(['      tls:', `        ca: ${files.ca}`, `        cert: ${files.clientCert}`, `        key: ${files.strangerKey}`], url),
      /^11:14 uplinks\.cloud\.mqtt\.tls\.key: is not the private key of tls\.cert \(the key values do not match\)/);
    assert.match(await problem(['      tls:', `        cert: ${files.clientKey}`, `        key: ${files.clientKey}`], url), /^9:15 uplinks\.cloud\.mqtt\.tls\.cert: holds no PEM certificate/);
    const ok = await load(['      tls:', `        ca: ${files.ca}`, `        cert: ${files.clientCert}`, `        key: ${files.clientKey}`], url);
    assert.ok(ok.ok, ok.ok ? '' : ok.problems.map((p) => p.message).join('\n'));
  } finally {
    files.dispose();
  }
});
