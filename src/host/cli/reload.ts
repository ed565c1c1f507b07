/**
 * `wasmgate reload [--config FILE | --socket PATH]`: asks the running daemon to read its files again
 * and apply what changed (docs/cli.md, "Reload"); prints what it did, or why it changed nothing.
 */
import type { ReloadOutcome } from '../gateway.js';
import { askDaemon } from './ask-daemon.js';

/** Reading and configuring every plugin again can take a while on a small box. */
const RELOAD_TIMEOUT_MS = 60_000;

export async function runReload(options: { config?: string; socket?: string }, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const outcome = await askDaemon<ReloadOutcome>(options, {
    command: 'reload', op: 'reload', timeoutMs: RELOAD_TIMEOUT_MS,
    onError: (error) => {
      const problems = (error.context as { problems?: unknown }).problems;
      if (Array.isArray(problems)) for (const p of problems) err(String(p));
      err(`wasmgate reload: ${error.toString()}`);
    },
  }, err);
  if (outcome === undefined) return 1;
  for (const kind of ['unchanged', 'changed', 'added', 'removed'] as const) out(`${kind}: ${outcome[kind].length > 0 ? outcome[kind].join(', ') : '-'}`);
  const swapped = outcome.swapped ?? [];
  out(`swapped: ${swapped.length > 0 ? swapped.map((p) => `${p.pipeline} (${p.steps.map((s) => `step ${s.step} ${s.plugin} ${s.version}, state ${s.state}`).join('; ')})`).join(', ') : '-'}`);
  // A swap that failed left the old version live: the reload did not do what was asked.
  for (const f of outcome.failed ?? []) err(`wasmgate reload: ${f.pipeline}: ${f.code}: ${f.message}`);
  return (outcome.failed ?? []).length > 0 ? 1 : 0;
}
