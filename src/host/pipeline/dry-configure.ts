/**
 * Configures every step of a pipeline the way its worker will: in a pipeline worker of its own, with
 * the same settings documents and units passed on by wg_units, the decoder's polling instance too,
 * under the configure deadline. A refusal becomes a positioned config problem, so what only a plugin
 * can judge (an unknown unit for si, a point name in `with.points` that does not exist) is reported by
 * `wasmgate validate` and before `wasmgate run` starts anything, naming the file, line and column of
 * the step. A plugin that traps or loops while configuring is reported the same way: plugin code never
 * runs on the main thread, where nothing could stop it (validate is the unit's ExecStartPre).
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import type { ResolvedPipeline } from '../config/resolved.js';
import { makeProblem, type ConfigProblem } from '../config/problem.js';
import { YamlSource } from '../config/yaml-source.js';
import { WgError, isWgError, type ErrorCode } from '../errors.js';
import { createRing } from '../ring/ring.js';
import { MIN_CAPACITY } from '../ring/layout.js';
import { STEP, createControl, openControl } from './control.js';
import { DEFAULT_CONFIGURE_DEADLINE_MS, WORKER_URL } from './pipeline-runner.js';
import { pipelineContext } from './settings-document.js';
import { compileSteps } from './step-modules.js';
import type { WorkerData, WorkerMessage } from './worker-protocol.js';

export async function dryConfigure(pipeline: ResolvedPipeline, deadlineMs = DEFAULT_CONFIGURE_DEADLINE_MS): Promise<ConfigProblem[]> {
  try {
    const compiled = await compileSteps(pipeline);
    await configureInWorker(pipeline, compiled.map((plugin, i) => ({ plugin, kind: pipeline.steps[i]!.kind, with: pipeline.steps[i]!.with })), deadlineMs);
    return [];
  } catch (err) {
    if (!isWgError(err)) throw err;
    return [await positioned(pipeline, err)];
  }
}

function configureInWorker(pipeline: ResolvedPipeline, steps: WorkerData['steps'], deadlineMs: number): Promise<void> {
  const control = createControl();
  const { port2 } = new MessageChannel();
  const data: WorkerData = {
    context: pipelineContext(pipeline),
    steps,
    ingress: createRing(MIN_CAPACITY),
    egress: createRing(MIN_CAPACITY),
    control,
    maxBatchRecords: 1,
    maxBatchBytes: MIN_CAPACITY,
    tickMs: 1000,
    pollPort: port2,
    dryRun: true,
  };
  const worker = new Worker(WORKER_URL, { workerData: data, transferList: [port2] });
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (error?: WgError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(() => {
      const step = Atomics.load(openControl(control).ints, STEP);
      const plugin = steps[step]?.plugin.name ?? '?';
      settle(new WgError('WG_ERR_PLUGIN_TIMEOUT', { pipeline: pipeline.name, step, plugin, detail: `configuring took longer than ${deadlineMs} ms` }));
    }, deadlineMs);
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'ready') settle();
      else if (m.type === 'configure-failed') settle(new WgError(m.code as ErrorCode, { ...m.context, pipeline: pipeline.name }));
    });
    worker.on('error', (err) => settle(new WgError('WG_ERR_WORKER_CRASHED', { pipeline: pipeline.name, detail: err.message })));
    worker.on('exit', (code) => settle(code === 0 ? undefined : new WgError('WG_ERR_WORKER_CRASHED', { pipeline: pipeline.name, detail: `exit code ${code} while configuring` })));
  });
}

/** The problem at the step the error names (its `with:` when written), else at `steps`. */
async function positioned(pipeline: ResolvedPipeline, err: WgError): Promise<ConfigProblem> {
  const step = typeof err.context.step === 'number' ? err.context.step : pipeline.steps.findIndex((s) => s.plugin === err.context.plugin);
  const read = await YamlSource.read(pipeline.file);
  const path = step >= 0 ? ['steps', step] : ['steps'];
  const withWritten = read.ok && step >= 0 && read.source.has([...path, 'with']);
  const settingPath = withWritten ? [...path, 'with'] : path;
  const at = read.ok ? read.source.positionOf(settingPath, 'key') : { line: 1, column: 1 };
  const where = { file: pipeline.file, line: at.line, column: at.column, path: step >= 0 ? `steps[${step}]${withWritten ? '.with' : ''}` : 'steps' };
  const problem = makeProblem(where, err.code, err.context);
  // The plugin's own words may quote a `with:` value that came from the environment.
  return read.ok ? Object.freeze({ ...problem, message: read.source.hideEnvValues(problem.message) }) : problem;
}
