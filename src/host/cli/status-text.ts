/**
 * The daemon's status for a person, as `wasmgate status` prints it: one line for the gateway, then per
 * pipeline its state and counters, its steps with plugin name and version (and its swaps and rollbacks), its rules (loaded, active,
 * writes by outcome), its links and its devices,
 * then per uplink a line for its link and one for its outbox. Failure states (a failed pipeline, a link down, a quarantined device, an
 * uplink offline) are said in words, with the last error where there is one.
 */
import type { ControlStatus } from '../control/gateway-control.js';

type RuleStatus = ControlStatus['pipelines'][number]['rules'][number];

export function statusText(status: ControlStatus): string[] {
  const lines = [`gateway ${status.gateway}: up ${duration(status.uptimeMs)} (since ${status.startedAt}), wasmgate ${status.version}, pid ${status.pid}`];
  for (const p of status.pipelines) {
    const reason = p.reason ? ` (${p.reason})` : '';
    lines.push(`pipeline ${p.name}: ${p.state}${reason}; ${p.published} published, ${p.batchesDropped} batches dropped, ${p.watchdogKills} watchdog kills, ${p.workerRestarts} worker restarts`);
    p.steps.forEach((s, i) => {
      const watched = p.swaps?.watching.includes(i) ? ', swapped (watched for a crash loop)' : '';
      lines.push(`  step ${i + 1} ${s.plugin} ${s.version} (${s.kind}): ${s.batches} batches, ${s.itemsIn} in, ${s.itemsOut} out, ${s.traps} traps, ${s.errors} errors${watched}`);
    });
    const st = p.stages;
    if (st && st.chain.count > 0) {
      lines.push(`  inside the gateway, mean per batch: ingress wait ${meanMs(st.ingressWait)}, chain ${meanMs(st.chain)}, egress wait ${meanMs(st.egressWait)}`);
    }
    if (p.rules.length > 0) {
      const active = p.rules.filter((r) => r.active).map((r) => r.name);
      const sum = (k: keyof RuleStatus['writes']) => p.rules.reduce((n, r) => n + r.writes[k], 0);
      lines.push(`  rules: ${p.rules.length} loaded, ${active.length} active${active.length > 0 ? ` (${active.join(', ')})` : ''}; ${p.rules.reduce((n, r) => n + r.fired, 0)} fired, ${p.rules.reduce((n, r) => n + r.cleared, 0)} cleared; writes ${sum('written')} written, ${sum('failed')} failed, ${sum('interlocked')} interlocked, ${sum('rate-limited')} rate-limited, ${sum('dry-run')} dry-run; ${p.rulesEvalErrors ?? 0} eval errors`);
    }
    const swaps = p.swaps;
    if (swaps && swaps.swaps + swaps.refused + swaps.rollbacks > 0) {
      const last = swaps.history.at(-1);
      const what = last ? `; last: step ${last.step + 1} ${last.plugin}${last.version ? ` ${last.version}` : ''} ${last.outcome} at ${last.at}${last.reason ? ` (${last.reason})` : ''}` : '';
      lines.push(`  swaps: ${swaps.swaps} live, ${swaps.refused} refused, ${swaps.rollbacks} rolled back${what}`);
    }
    for (const l of p.links) {
      const last = l.lastError && !l.connected ? `; last error: ${l.lastError}` : '';
      lines.push(`  link ${l.link} (${l.kind}): ${l.connected ? 'connected' : 'not connected'}, utilisation ${(l.utilisation * 100).toFixed(1)}%, ${l.transactions} transactions${last}`);
    }
    for (const src of p.pushSources ?? []) {
      const refused = Object.entries(src.refused).filter(([, n]) => n > 0).map(([reason, n]) => `${n} ${reason}`);
      lines.push(`  push source ${src.name} (${src.kind}, ${src.endpoint}): ${src.listening ? 'listening' : 'not listening'}; ${src.accepted} accepted, ${refused.length > 0 ? `refused ${refused.join(', ')}` : 'none refused'}, ${src.waiting} waiting for the ring${ownCounters(src.own)}`);
    }
    for (const d of p.devices) {
      const state = d.quarantined ? 'quarantined' : d.connected ? 'connected' : 'not connected';
      const rtt = d.lastRttMs !== undefined ? `, last answer in ${d.lastRttMs.toFixed(1)} ms` : '';
      const last = d.lastError && (d.quarantined || !d.connected) ? `; last error: ${d.lastError}` : '';
      const cov = !d.cov ? '' : d.cov.state === 'polling' ? `; COV refused, polled instead: ${d.cov.reason ?? ''}` : `; COV ${d.cov.state} (${d.cov.subscriptions} objects, ${d.cov.rounds} rounds accepted)`;
      lines.push(`  device ${d.device} on ${d.link}: ${state}; ${d.polls} polls, ${d.responses} answers, ${d.timeouts} timeouts, ${d.overruns} overruns${rtt}${last}${cov}`);
    }
  }
  for (const u of status.uplinks) {
    const last = u.lastError && u.state !== 'connected' ? `; last error: ${u.lastError}` : '';
    lines.push(`uplink ${u.name}: ${u.state}; ${u.acked} acked, ${u.failed} failed, ${u.reconnects} reconnects${last}`);
    const o = u.outbox;
    if (o) {
      const oldest = o.messages > 0 ? `, oldest ${duration(o.oldestAgeMs)} old` : '';
      const where = o.durable ? '' : ' in memory, the disk cannot be written;';
      lines.push(`  outbox:${where} ${o.messages} waiting (${bytes(o.bytes)})${oldest}; ${o.delivered} delivered, ${u.replayed} replayed, ${o.droppedByBytes + o.droppedByAge} dropped (${o.droppedByBytes} over the size cap, ${o.droppedByAge} over the age cap), ${o.deadLetters} dead letters`);
    }
  }
  const d = status.dropIn;
  if (d) {
    const state = d.watching ? 'watching' : `not watched (${d.problem ?? 'not looked at yet'})`;
    lines.push(`drop-in ${d.dir}: ${state}; ${d.installed} installed, ${d.refused} refused, ${d.deferred} deferred, ${d.moveFailed} not moved`);
  }
  return lines;
}

/** `0.042 ms`: the mean of a histogram. */
function meanMs(h: { sumMs: number; count: number }): string {
  return h.count > 0 ? `${(h.sumMs / h.count).toFixed(3)} ms` : 'none yet';
}

/** `512 B`, `1.5 KiB`, `12.0 MiB`. */
function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** `3d 04h 05m`, `1h 02m 03s`, `4m 05s`, `12s`. */
export function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const [d, h, m, sec] = [Math.floor(s / 86_400), Math.floor((s % 86_400) / 3600), Math.floor((s % 3600) / 60), s % 60];
  const two = (n: number): string => String(n).padStart(2, '0');
  if (d > 0) return `${d}d ${two(h)}h ${two(m)}m`;
  if (h > 0) return `${h}h ${two(m)}m ${two(sec)}s`;
  if (m > 0) return `${m}m ${two(sec)}s`;
  return `${sec}s`;
}

/** A push kind's own counters (an MQTT subscription's held_back, reconnects): `; held_back 3, reconnects 1`. */
function ownCounters(own: Readonly<Record<string, number>> | undefined): string {
  const entries = Object.entries(own ?? {});
  return entries.length > 0 ? `; ${entries.map(([name, n]) => `${name} ${n}`).join(', ')}` : '';
}
