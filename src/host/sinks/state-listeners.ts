/**
 * The listeners of one sink's state changes (`Sink.onStateChange`), kept apart so that both sinks tell
 * them alike: in order of registration, each change once, a throwing listener kept from the others.
 */
import type { SinkState, SinkStateListener } from './sink.js';

export class SinkStateListeners {
  readonly #listeners = new Set<SinkStateListener>();
  #last: SinkState | undefined;

  add(listener: SinkStateListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Tells every listener of `state`, unless it is the state they were told last. */
  changed(state: SinkState): void {
    if (state === this.#last) return;
    this.#last = state;
    for (const listener of [...this.#listeners]) {
      try {
        listener(state);
      } catch {
        // A listener's fault is its own; the sink's state is not in question.
      }
    }
  }
}
