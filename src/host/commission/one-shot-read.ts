/**
 * One poll of a commissioning target through a real pipeline: the target becomes a pipeline file
 * (modbus decoder, json encoder, one device per unit id), loaded and checked like any other, and run
 * once with a capture sink. So probe and scan frame, time, arbitrate and decode exactly as the daemon
 * does, and a setting the operator got wrong is refused with the same words.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WgError } from '../errors.js';
import type { Logger } from '../logger.js';
import { AssembledPipeline } from '../pipeline/pipeline-assembly.js';
import { systemClock } from '../../hal/clock.js';
import { CaptureSink } from './capture-sink.js';
import type { LinkJoin } from '../poll/shared-links.js';
import { targetSource, type CommissionTarget } from './commission-target.js';

export interface ReadValue {
  address: number;
  /** The raw register (0-65535) or bit (0/1); null when the read failed. */
  value: number | null;
  quality: string;
}

export interface UnitReading {
  unit: number;
  values: ReadValue[];
  /** true when every value came back good. */
  answered: boolean;
  /** true when the device answered at all (good values, or an exception: someone is there). */
  present: boolean;
}

/** Margin for the worker to start and the decoder to configure, on top of the bus time. */
const START_MARGIN_MS = 10_000;

/** Where the read runs: stand-alone (its own link), or on a running daemon's link as a guest (daemon-read.ts). */
export interface ReadPlace {
  links?: LinkJoin;
  guest?: boolean;
  /** Aborted when nobody waits for the answer any more (the client of a daemon read went away): the read ends early. */
  signal?: AbortSignal;
}

/**
 * The longest a read of `target` may take: the worker's start, then every request of every unit
 * timing out with all its retries. On a daemon's link, add as much again for its own polls, which
 * take every other turn.
 */
export function readBudgetMs(target: CommissionTarget, guest = false): number {
  const perRequest = target.timeoutMs * (target.retries + 1);
  const requests = Math.ceil(target.range.count / (target.range.function <= 2 ? 2000 : 125));
  return START_MARGIN_MS + perRequest * requests * target.units.length * (guest ? 2 : 1);
}

export async function readOnce(target: CommissionTarget, logger: Logger, place: ReadPlace = {}): Promise<UnitReading[]> {
  const dir = await mkdtemp(join(tmpdir(), 'wasmgate-commission-'));
  try {
    await writeFile(join(dir, 'gateway.yaml'), JSON.stringify({
      gateway: { id: 'commission', data_dir: dir },
      // Never connected: the pipeline publishes into a capture sink.
      uplinks: { capture: { mqtt: { url: 'mqtt://127.0.0.1:1' } } },
      pipelines: ['commission.yaml'],
    }));
    await writeFile(join(dir, 'commission.yaml'), JSON.stringify({
      pipeline: { name: 'commission' },
      source: targetSource(target),
      steps: [{ plugin: 'modbus' }, { plugin: 'json', with: { include: { device: true, unit: false } } }],
      publish: { uplink: 'capture', topic: 'commission/{device}/{point}' },
    }));
    // Imported here, not at the top: the daemon serves reads through its control socket, and its heap
    // holds the config modules only once a read was asked (cli/config-thread.ts).
    const { loadGatewayConfig } = await import('../config/index.js');
    const loaded = await loadGatewayConfig(join(dir, 'gateway.yaml'));
    if (!loaded.ok) {
      // The target came from command-line options: say which setting, not which temporary file.
      const detail = loaded.problems.map((p) => `${p.path}: ${p.message}`).join('; ');
      throw new WgError('WG_ERR_CLI_USAGE', { detail });
    }
    const pipeline = loaded.config.pipelines[0]!;
    const sink = new CaptureSink();
    const assembled = await AssembledPipeline.start(pipeline, { gatewayId: 'commission', sink, logger, clock: systemClock, ...place });
    const expected = pipeline.points.length;
    await sink.until(() => sink.messages.length >= expected, readBudgetMs(target, place.guest), place.signal);
    const [link] = assembled.status().links;
    await assembled.stop();
    // A port or host that never opened is no bus without devices: say why, not "no answer" from each unit.
    if (link && link.opens === 0 && !link.connected) {
      const prefix = `cannot connect to ${link.link}: `;
      const why = link.lastError?.startsWith(prefix) ? link.lastError.slice(prefix.length) : (link.lastError ?? 'it never opened');
      throw new WgError('WG_ERR_HAL_CONNECT', { device: link.link, detail: why });
    }
    return readings(target, sink.messages);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function readings(target: CommissionTarget, messages: readonly string[]): UnitReading[] {
  const byUnit = new Map<number, Map<number, ReadValue>>(target.units.map((u) => [u, new Map()]));
  for (const text of messages) {
    const m = JSON.parse(text) as { device: string; point: string; value: number | boolean | null; quality: string };
    const unit = Number(m.device.slice('unit-'.length));
    const address = Number(m.point.slice(1));
    const value = m.value === null ? null : Number(m.value);
    byUnit.get(unit)?.set(address, { address, value: m.quality === 'good' ? value : null, quality: m.quality });
  }
  return target.units.map((unit) => {
    const got = byUnit.get(unit)!;
    const values = Array.from({ length: target.range.count }, (_, i) => {
      const address = target.range.address + i;
      return got.get(address) ?? { address, value: null, quality: 'no-comm' };
    });
    return {
      unit,
      values,
      answered: values.every((v) => v.quality === 'good'),
      // An exception is an answer (quality bad); silence is no-comm.
      present: values.some((v) => v.quality !== 'no-comm'),
    };
  });
}
