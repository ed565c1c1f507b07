/**
 * Checks of the gateway file that a schema cannot express: contradictions between settings, files
 * that must be readable, values whose unit conversion fails. Runs after the schema, on every part of
 * the file the schema accepted.
 */
import { MAX_SOCKET_PATH_BYTES } from '../control/control-socket-file.js';
import { resolveControl } from './resolve-gateway.js';
import type { GatewayDocument, MqttDocument } from './documents.js';
import type { SettingChecks } from './setting-checks.js';
import type { SettingPath } from './setting-path.js';
import { dirname } from 'node:path';

/** Longest keep-alive MQTT can carry: a 16-bit number of seconds. */
const MQTT_MAX_KEEPALIVE_S = 65_535;

export async function checkGateway(doc: GatewayDocument, checks: SettingChecks): Promise<void> {
  const pending: Promise<void>[] = [];
  if (checks.intact(['gateway', 'plugin_dirs'])) {
    doc.gateway.plugin_dirs?.forEach((dir, i) => pending.push(checks.directory(['gateway', 'plugin_dirs', i], dir, 'plugin directory')));
  }
  if (checks.intact(['uplinks'])) {
    for (const [name, uplink] of Object.entries(doc.uplinks)) {
      // An uplink holding only an unknown transport has been reported already; there is no mqtt to check.
      const at = ['uplinks', name, 'mqtt'];
      if (checks.intact(at) && uplink.mqtt !== undefined) pending.push(checkMqtt(uplink.mqtt, at, checks));
    }
  }
  if (checks.intact(['control']) && checks.clean(['gateway', 'data_dir'])) checkControl(doc, checks);
  await Promise.all(pending);
}

/** `control.socket`: a path or false, and a path that fits a Unix socket address, the default's too. */
function checkControl(doc: GatewayDocument, checks: SettingChecks): void {
  const written = doc.control.socket;
  if (written === true) return checks.invalid(['control', 'socket'], 'must be a path, or false to turn the control socket off (true is neither)');
  const dataDir = checks.absolute(doc.gateway.data_dir);
  const { socket, socketFrom } = resolveControl(written, dirname(checks.source.file), dataDir);
  if (socket === null) return;
  const bytes = Buffer.byteLength(socket);
  if (bytes <= MAX_SOCKET_PATH_BYTES) return;
  const tooLong = `${socket} is ${bytes} bytes; a Unix socket path has at most ${MAX_SOCKET_PATH_BYTES}`;
  if (socketFrom === 'control.socket') return checks.invalid(['control', 'socket'], `${tooLong}: give a shorter path`);
  // A default that does not fit is reported where it comes from: data_dir (or the gateway map when
  // data_dir is not written), or the control map for systemd's runtime directory.
  const at: SettingPath = socketFrom === 'RUNTIME_DIRECTORY' ? ['control', 'socket'] : ['gateway', 'data_dir'];
  const origin = socketFrom === 'RUNTIME_DIRECTORY' ? 'in $RUNTIME_DIRECTORY' : 'in data_dir';
  checks.report(at, 'WG_ERR_CONFIG_INVALID', { detail: `the control socket's default place ${origin}, ${tooLong}: set control.socket to a shorter path, or control.socket: false` });
}

async function checkMqtt(mqtt: MqttDocument, at: SettingPath, checks: SettingChecks): Promise<void> {
  const pending: Promise<void>[] = [];
  let url: URL | undefined;
  if (checks.clean([...at, 'url'])) {
    try {
      url = new URL(mqtt.url);
      if (url.hostname === '') checks.invalid([...at, 'url'], 'must name a host, as in mqtt://broker.example:1883');
    } catch {
      checks.invalid([...at, 'url'], `is not a URL (got ${JSON.stringify(mqtt.url)})`);
    }
  }

  // MQTT 3.1.1 §3.1.2.9: a password may only be sent with a user name (the sink refuses it too).
  // Reported once, at the first password setting written; two of them are a conflict of their own.
  const passwordKey = mqtt.password !== undefined ? 'password' : mqtt.password_file !== undefined ? 'password_file' : undefined;
  if (mqtt.username === undefined && passwordKey !== undefined && checks.clean([...at, passwordKey])) {
    checks.report([...at, passwordKey], 'WG_ERR_CONFIG_CONFLICT', { detail: `${passwordKey} needs username: MQTT 3.1.1 sends a password only with a user name` });
  }
  if (mqtt.password !== undefined && mqtt.password_file !== undefined) {
    checks.conflict([...at, 'password_file'], [...at, 'password'], 'password_file and password exclude each other: keep one');
  } else if (mqtt.password_file !== undefined) {
    pending.push(checks.readableFile([...at, 'password_file'], mqtt.password_file, 'password file'));
  }

  const keepalive = checks.duration([...at, 'keepalive'], mqtt.keepalive);
  if (keepalive !== undefined && keepalive % 1000 !== 0) {
    checks.invalid([...at, 'keepalive'], `must be whole seconds: MQTT sends it in seconds (got ${String(mqtt.keepalive)})`);
  } else if (keepalive !== undefined && keepalive / 1000 > MQTT_MAX_KEEPALIVE_S) {
    checks.invalid([...at, 'keepalive'], `must be at most ${MQTT_MAX_KEEPALIVE_S}s (got ${String(mqtt.keepalive)})`);
  }
  checks.backoff([...at, 'reconnect'], mqtt.reconnect);

  // The schema fills in `tls: {}`; only a tls block the operator wrote can contradict the URL.
  if (checks.source.has([...at, 'tls']) && checks.intact([...at, 'tls'])) {
    const tls = mqtt.tls;
    if (url !== undefined && url.protocol !== 'mqtts:' && url.protocol !== 'wss:') {
      checks.conflict([...at, 'tls'], [...at, 'url'], `tls is given but the URL scheme ${url.protocol}// is not encrypted: use mqtts:// or wss://, or remove tls`);
    }
    if (tls.cert !== undefined && tls.key === undefined) checks.conflict([...at, 'tls', 'cert'], [...at, 'tls', 'key'], 'cert needs key, its private key');
    if (tls.key !== undefined && tls.cert === undefined) checks.conflict([...at, 'tls', 'key'], [...at, 'tls', 'cert'], 'key needs cert, the certificate it belongs to');
    for (const file of ['ca', 'cert', 'key'] as const) {
      const written = tls[file];
      if (written !== undefined) pending.push(checks.readableFile([...at, 'tls', file], written, `TLS ${file}`));
    }
  }
  await Promise.all(pending);
}
