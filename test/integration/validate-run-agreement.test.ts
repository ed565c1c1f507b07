/**
 * validate and run agree: whatever `wasmgate run` refuses, `wasmgate validate` refuses first, with
 * file:line:col. What broke: ws:// and wss:// URLs (listed in docs/config.md) and a password without a
 * username passed validate and were refused by the MQTT sink at run, and a decoder without the polling
 * group was refused only while the pipeline was assembled; under systemd (ExecStartPre=validate,
 * Restart=on-failure) that is a crash loop behind a green check.
 *
 * Each case is taken both ways: validate on the file, and the run path (Gateway.start) on the same
 * settings with validation left out, which must refuse it with the same rule. The uplink cases cover
 * every rule the MQTT sink declares reachable from a gateway file (MQTT_OPTION_RULES).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import binaryen from 'binaryen';
import { runValidate } from '../../src/host/cli/validate.js';
import { loadGatewayConfig, type ResolvedGateway, type ResolvedMqttUplink } from '../../src/host/config/index.js';
import { isWgError } from '../../src/host/errors.js';
import { Gateway } from '../../src/host/gateway.js';
import { MQTT_OPTION_RULES, type MqttOptionRule } from '../../src/host/sinks/mqtt-options.js';
import { ConfigWorkspace, REPO_ROOT, gatewayLines, pipelineLines } from '../unit/config-workspace.js';
import { watBytes } from '../support/plugins.js';

const silent = pino({ level: 'silent' });

interface UplinkCase {
  rule: MqttOptionRule;
  /** Lines 7 on of the gateway file's mqtt block (line 7 is the url). */
  mqtt: string[];
  /** What validate prints for it, after the file name. */
  expected: string;
  /** The same settings as the run path receives them once resolved. */
  resolved: Partial<ResolvedMqttUplink>;
}

const secure = { ca: null, cert: null, key: null, rejectUnauthorized: true };
const uplinkCases: UplinkCase[] = [
  { rule: 'url-parse', mqtt: ['      url: mqtt://bro ker:1883'], expected: ':7:12 uplinks.cloud.mqtt.url: is not a URL', resolved: { url: 'mqtt://bro ker:1883' } },
  { rule: 'url-parse', mqtt: ['      url: mqtt://'], expected: ':7:12 uplinks.cloud.mqtt.url: must name a host', resolved: { url: 'mqtt://' } },
  { rule: 'url-scheme', mqtt: ['      url: http://broker:1883'], expected: ':7:12 uplinks.cloud.mqtt.url: must be text matching ^(mqtt|mqtts|ws|wss)://', resolved: { url: 'http://broker:1883' } },
  {
    rule: 'tls-scheme',
    mqtt: ['      url: mqtt://127.0.0.1:1883', '      tls: { reject_unauthorized: false }'],
    expected: ':8:12 uplinks.cloud.mqtt.tls: tls is given but the URL scheme mqtt:// is not encrypted',
    resolved: { tls: { ...secure, rejectUnauthorized: false } },
  },
  {
    rule: 'tls-pair',
    mqtt: ['      url: mqtts://127.0.0.1:8883', '      tls: { cert: c.pem }'],
    expected: ':8:20 uplinks.cloud.mqtt.tls.cert: cert needs key',
    resolved: { url: 'mqtts://127.0.0.1:8883', tls: { ...secure, cert: 'c.pem' } },
  },
  {
    rule: 'password-without-username',
    mqtt: ['      url: mqtt://127.0.0.1:1883', '      password: secret'],
    expected: ':8:17 uplinks.cloud.mqtt.password: password needs username',
    resolved: { password: 'secret' },
  },
  {
    rule: 'password-without-username',
    mqtt: ['      url: mqtt://127.0.0.1:1883', '      password_file: c.pem'],
    expected: ':8:22 uplinks.cloud.mqtt.password_file: password_file needs username',
    resolved: { password: 'the file content' },
  },
  {
    rule: 'keepalive-range',
    mqtt: ['      url: mqtt://127.0.0.1:1883', '      keepalive: 65536s'],
    expected: ':8:18 uplinks.cloud.mqtt.keepalive: must be at most 65535s',
    resolved: { keepaliveMs: 65_536_000 },
  },
  {
    rule: 'reconnect-min',
    mqtt: ['      url: mqtt://127.0.0.1:1883', '      reconnect: { min: 0ms, max: 1s }'],
    expected: ':8:25 uplinks.cloud.mqtt.reconnect.min: must be longer than 0ms',
    resolved: { reconnect: { minMs: 0, maxMs: 1000 } },
  },
  {
    rule: 'reconnect-max-timer',
    mqtt: ['      url: mqtt://127.0.0.1:1883', '      reconnect: { min: 1s, max: 720h }'],
    expected: ':8:34 uplinks.cloud.mqtt.reconnect.max: must be at most 2147483647ms',
    resolved: { reconnect: { minMs: 1000, maxMs: 720 * 3_600_000 } },
  },
  {
    rule: 'reconnect-order',
    mqtt: ['      url: mqtt://127.0.0.1:1883', '      reconnect: { min: 10s, max: 1s }'],
    expected: ':8:25 uplinks.cloud.mqtt.reconnect.min: min (10s) is longer than max (1s)',
    resolved: { reconnect: { minMs: 10_000, maxMs: 1000 } },
  },
  {
    rule: 'session-expiry-clean',
    mqtt: ['      url: mqtt://127.0.0.1:1883', '      session_expiry: 1h'],
    expected: ':8:23 uplinks.cloud.mqtt.session_expiry: session_expiry keeps a session, and clean_session is true',
    resolved: { sessionExpiryMs: 3_600_000 },
  },
  {
    rule: 'session-expiry-range',
    mqtt: ['      url: mqtt://127.0.0.1:1883', '      clean_session: false', '      session_expiry: 1500ms'],
    expected: ':9:23 uplinks.cloud.mqtt.session_expiry: must be whole seconds',
    resolved: { cleanSession: false, sessionExpiryMs: 1500 },
  },
  {
    rule: 'message-expiry-range',
    mqtt: ['      url: mqtt://127.0.0.1:1883', '      message_expiry: 1500ms'],
    expected: ':8:23 uplinks.cloud.mqtt.message_expiry: must be whole seconds',
    resolved: { messageExpiryMs: 1500 },
  },
  {
    rule: 'status-topic',
    mqtt: ['      url: mqtt://127.0.0.1:1883', '      status: { topic: "x/#" }'],
    expected: ':8:24 uplinks.cloud.mqtt.status.topic: is a topic to publish to: no wildcards',
    resolved: { status: { topic: 'x/#', online: 'online', offline: 'offline', stopped: 'offline' } },
  },
];

/** The gateway file of config-workspace with its mqtt block (from line 7) replaced. */
function gatewayWith(mqtt: string[]): string[] {
  const lines = gatewayLines();
  lines.splice(6, 2, ...mqtt);
  return lines;
}

async function validateLines(file: string, plugins: boolean): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await runValidate({ config: file, plugins }, (line) => lines.push(line));
  return { code, lines };
}

/** A valid configuration of the workspace, resolved, to hand the run path settings validate never saw. */
async function resolvedBase(ws: ConfigWorkspace): Promise<ResolvedGateway> {
  await ws.write('ok.yaml', gatewayLines());
  const result = await loadGatewayConfig(ws.path('ok.yaml'));
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  return result.config;
}

test('every MQTT sink rule a gateway file can reach has a case here', () => {
  const reachable = Object.entries(MQTT_OPTION_RULES).filter(([, r]) => r.fromConfig).map(([name]) => name).sort();
  assert.deepEqual([...new Set(uplinkCases.map((c) => c.rule))].sort(), reachable);
});

for (const c of uplinkCases) {
  test(`uplink rule ${c.rule} (${c.mqtt.at(-1)!.trim()}): validate refuses it at file:line:col, and so does run`, async () => {
    const ws = await ConfigWorkspace.create();
    try {
      await ws.write('p.yaml', pipelineLines());
      await ws.write('c.pem', ['-----BEGIN CERTIFICATE-----']);
      const file = await ws.write('gw.yaml', gatewayWith(c.mqtt));
      const { code, lines } = await validateLines(file, false);
      assert.equal(code, 1);
      assert.equal(lines.length, 2, lines.join('\n'));
      assert.ok(lines[0]!.startsWith(`${file}${c.expected}`), `${lines[0]}\ndoes not start with\n${file}${c.expected}`);

      // The run path, given the same settings without validate: the sink refuses them by the same rule.
      const base = await resolvedBase(ws);
      const mqtt = base.uplinks[0]!;
      assert.ok(mqtt.transport === 'mqtt');
      const uplink = { ...mqtt, ...c.resolved };
      if (uplink.tls?.cert) uplink.tls = { ...uplink.tls, cert: ws.path(uplink.tls.cert) };
      await assert.rejects(
        Gateway.start({ ...base, uplinks: [uplink as typeof mqtt] }, { logger: silent, statusIntervalMs: 0 }),
        (e) => isWgError(e) && e.context.rule === c.rule,
      );
    } finally {
      await ws.remove();
    }
  });
}

test('ws:// and wss:// URLs, listed in docs/config.md, pass validate and the sink alike', async () => {
  const ws = await ConfigWorkspace.create();
  try {
    await ws.write('p.yaml', pipelineLines());
    await copyFile(join(REPO_ROOT, 'test/fixtures/tls/ca.pem'), ws.path('ca.pem')); // the loader reads what it holds
    for (const mqtt of [['      url: ws://127.0.0.1:8080/mqtt'], ['      url: wss://127.0.0.1:8443/mqtt', '      tls: { ca: ca.pem }']]) {
      const file = await ws.write('gw.yaml', gatewayWith(mqtt));
      const { code, lines } = await validateLines(file, false);
      assert.equal(code, 0, lines.join('\n'));
      const result = await loadGatewayConfig(file);
      assert.ok(result.ok);
      // Starting only the sinks: an empty pipeline list, so the fixture plugins' missing modules do not matter.
      const gateway = await Gateway.start({ ...result.config, pipelines: [] }, { logger: silent, statusIntervalMs: 0 });
      await gateway.stop();
    }
  } finally {
    await ws.remove();
  }
});

/** config-workspace's pipeline (name p) with its three step lines (11-13) replaced by `steps`. */
function builtPipeline(steps: string[]): string[] {
  const lines = pipelineLines('p');
  lines.splice(10, 3, ...steps);
  return lines;
}

/** Gateway file with the package's own plugins (no plugin_dirs). */
const gatewayOnBuiltPlugins = ['gateway:', '  id: gw1', 'uplinks:', '  cloud:', '    mqtt:', '      url: mqtt://127.0.0.1:1', 'pipelines:', '  - p.yaml'];

const sourceCases = [
  {
    what: 'a decoder without the polling group',
    steps: ['  - path: ./nopoll.wasm', '  - plugin: json'],
    expected: ':11:5 steps[0]: the source polls devices, but decoder nopoll does not export the polling group',
  },
];

for (const c of sourceCases) {
  test(`source: ${c.what} is refused by validate at file:line:col, and by run`, async () => {
    const ws = await ConfigWorkspace.create();
    try {
      await writeFile(ws.path('nopoll.wasm'), watBytes('decoder-without-polling'));
      await ws.write('nopoll.plugin.yaml', ['name: nopoll', 'kind: decoder', 'abi: 1', 'version: 0.1.0', 'description: A decoder without the polling group.']);
      await ws.write('p.yaml', builtPipeline(c.steps));
      const file = await ws.write('gw.yaml', gatewayOnBuiltPlugins);
      const files = await loadGatewayConfig(file);
      assert.ok(files.ok, JSON.stringify(!files.ok && files.problems));

      const { code, lines } = await validateLines(file, true);
      assert.equal(code, 1);
      assert.ok(lines[0]!.startsWith(`${join(ws.dir, 'p.yaml')}${c.expected}`), lines.join('\n'));

      await assert.rejects(Gateway.start(files.config, { logger: silent, statusIntervalMs: 0 }), (e) => isWgError(e));
    } finally {
      await ws.remove();
    }
  });
}

test('long intervals are accepted; a timeout, back-off or deadline a timer cannot wait is refused with the limit', async () => {
  const ws = await ConfigWorkspace.create();
  try {
    const pipeline = pipelineLines();
    pipeline.splice(7, 0, '        interval: 720h'); // a monthly meter read is fine
    await ws.write('p.yaml', pipeline);
    const file = await ws.write('gw.yaml', gatewayLines());
    const ok = await loadGatewayConfig(file);
    assert.ok(ok.ok, JSON.stringify(!ok.ok && ok.problems));
    assert.equal(ok.config.pipelines[0]!.source.devices[0]!.intervalMs, 720 * 3_600_000);

    const hostile = pipelineLines();
    hostile.splice(2, 0, '  batch: { deadline: 597h }'); // line 3, value at col 22
    hostile.splice(8, 0,
      '        interval: 720h', // line 9
      '        timeout: 600h', // line 10, value at col 18
      '        backoff: { min: 1s, max: 2147483648 }', // line 11, max at col 34
    );
    await ws.write('p.yaml', hostile);
    const { code, lines } = await validateLines(file, false);
    assert.equal(code, 1);
    const p = ws.path('p.yaml');
    assert.deepEqual(lines.slice(0, -1).map((l) => l.split(' (about')[0]), [
      `${p}:3:22 pipeline.batch.deadline: must be at most 2147483647ms`,
      `${p}:10:18 source.modbus_tcp.devices[0].timeout: must be at most 2147483647ms`,
      `${p}:11:34 source.modbus_tcp.devices[0].backoff.max: must be at most 2147483647ms`,
    ]);
  } finally {
    await ws.remove();
  }
});
