/**
 * Checks of the gateway file that a schema cannot express: contradictions between settings, files
 * that must be readable, values whose unit conversion fails. Runs after the schema, on every part of
 * the file the schema accepted.
 */
import { checkMetrics } from '../metrics/metrics-settings.js';
import { checkPluginSettings } from '../packages/package-settings.js';
import { checkFleet } from '../fleet/fleet-settings.js';
import { MAX_SOCKET_PATH_BYTES } from '../control/control-socket-file.js';
import { dataDirOf, resolveControl } from './resolve-gateway.js';
import type { GatewayDocument } from './gateway-schema.js';
import { uplinkOf } from '../uplinks/uplink-kinds.js';
import type { SettingChecks } from './setting-checks.js';
import type { SettingPath } from './setting-path.js';
import { dirname } from 'node:path';

export async function checkGateway(doc: GatewayDocument, checks: SettingChecks): Promise<void> {
  const pending: Promise<void>[] = [];
  if (checks.intact(['gateway', 'plugin_dirs'])) {
    doc.gateway.plugin_dirs?.forEach((dir, i) => pending.push(checks.directory(['gateway', 'plugin_dirs', i], dir, 'plugin directory')));
  }
  if (checks.intact(['uplinks'])) {
    for (const [name, uplink] of Object.entries(doc.uplinks)) {
      // An uplink holding only an unknown kind has been reported by the schema already.
      const written = uplinkOf(uplink);
      if (!written) continue;
      const at = ['uplinks', name, written.kind.name];
      if (checks.intact(at)) pending.push(written.kind.check(written.doc, at, checks));
    }
  }
  if (checks.intact(['gateway', 'outbox_commit_delay'])) checkCommitDelay(doc, checks);
  if (checks.intact(['control']) && checks.clean(['gateway', 'data_dir'])) checkControl(doc, checks);
  if (checks.intact(['metrics'])) checkMetrics(doc.metrics, checks);
  if (checks.intact(['plugins', 'trusted_keys'])) pending.push(checkPluginSettings(doc.plugins, checks));
  if (checks.intact(['fleet']) && checks.intact(['uplinks']) && doc.fleet !== undefined) {
    const kinds = new Map(Object.entries(doc.uplinks).flatMap(([n, u]) => {
      const written = uplinkOf(u);
      return written ? [[n, written.kind.name] as [string, string]] : [];
    }));
    checkFleet(doc.fleet, kinds, checks);
  }
  await Promise.all(pending);
}

/** The longest delay accepted: a crash loses what was undelivered that long, and a reading's worth of polls is the most anyone would trade. */
export const MAX_COMMIT_DELAY_MS = 1_000;

function checkCommitDelay(doc: GatewayDocument, checks: SettingChecks): void {
  const at: SettingPath = ['gateway', 'outbox_commit_delay'];
  const ms = checks.duration(at, doc.gateway.outbox_commit_delay);
  if (ms !== undefined && ms > MAX_COMMIT_DELAY_MS) {
    checks.invalid(at, `must be at most ${MAX_COMMIT_DELAY_MS}ms (a crash loses what was undelivered for that long; got ${String(doc.gateway.outbox_commit_delay)})`);
  }
}

/** `control.socket`: a path or false, and a path that fits a Unix socket address, the default's too. */
function checkControl(doc: GatewayDocument, checks: SettingChecks): void {
  const written = doc.control.socket;
  if (written === true) return checks.invalid(['control', 'socket'], 'must be a path, or false to turn the control socket off (true is neither)');
  const base = dirname(checks.source.file);
  const { socket, socketFrom } = resolveControl(written, base, dataDirOf(doc, base));
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

