/**
 * Reads a metrics endpoint as Prometheus would: fetched over HTTP, parsed by the Prometheus
 * project's Python client (prometheus_parse.py), not by our code.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface MetricSample { name: string; labels: Record<string, string>; value: number }
export interface MetricFamily { name: string; type: string; samples: MetricSample[] }

const SCRIPT = fileURLToPath(new URL('../../../test/support/prometheus_parse.py', import.meta.url));

/** Whether Debian's python3-prometheus-client is installed (CI installs it). */
export function hasPrometheusParser(): boolean {
  return spawnSync('/usr/bin/python3', ['-c', 'import prometheus_client.parser'], { stdio: 'ignore' }).status === 0;
}

/** Parses exposition text; rejects with the parser's error when it is not valid. */
export function parsePrometheus(text: string): Promise<MetricFamily[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/python3', [SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as MetricFamily[]) : reject(new Error(`prometheus parser: ${err.trim()}`))));
    child.stdin.end(text);
  });
}

/** The value of the one sample named `name` whose labels include `labels`. */
export function sampleValue(families: readonly MetricFamily[], name: string, labels: Record<string, string> = {}): number | undefined {
  for (const f of families) {
    for (const s of f.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return Number(s.value);
    }
  }
  return undefined;
}
