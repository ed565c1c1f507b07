/**
 * A sink that keeps what it is given in memory: the commissioning tools run a real pipeline (decoder
 * in its worker, the link's arbiter, the real transport) and read its messages here instead of
 * publishing them.
 */
import type { Sink, SinkCounters, SinkState } from '../sinks/sink.js';

export class CaptureSink implements Sink {
  readonly name = 'capture';
  readonly state: SinkState = 'connected';
  readonly lastError = undefined;
  readonly connectedSinceMs = Date.now();
  readonly messages: string[] = [];
  #listeners: (() => void)[] = [];

  counters(): SinkCounters {
    const n = this.messages.length;
    return { published: n, acked: n, failed: 0, reconnects: 0, queued: 0, unmarked: 0, replayed: 0 };
  }

  backlog(): number {
    return 0;
  }

  whenBacklogBelow(): Promise<void> {
    return Promise.resolve();
  }

  start(): void {}

  /** Always connected: there is no change to tell. */
  onStateChange(): () => void {
    return () => undefined;
  }

  waitConnected(): Promise<void> {
    return Promise.resolve();
  }

  publish(_topic: string, payload: Uint8Array | string): Promise<void> {
    this.messages.push(typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'));
    for (const wake of this.#listeners.splice(0)) wake();
    return Promise.resolve();
  }

  /**
   * Resolves true once `ready()` holds (checked at each message), false after `timeoutMs` or when
   * `signal` aborts; what came so far is kept.
   */
  async until(ready: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const giveUpAt = Date.now() + timeoutMs;
    while (!ready()) {
      const left = giveUpAt - Date.now();
      if (left <= 0 || signal?.aborted) return false;
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        signal?.addEventListener('abort', wake, { once: true });
        this.#listeners.push(wake);
      });
    }
    return true;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
