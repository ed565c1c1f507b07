/**
 * The rules' state is saved only once the writes of the events before it are settled (written,
 * refused or failed): a state saved with an alarm active while its stop write is still on its way
 * would, after a kill -9 between the two, say "fired" for a write the PLC never got, and the
 * restarted rules would not fire again. Saved after the write, a crash before it leaves the old
 * state: the restarted rules fire again and write again (at least once), and the alarm may repeat.
 * States are saved in the order they came; the state file keeps only the newest waiting one.
 */
export class StateAfterWrites {
  readonly #writesSettled: () => Promise<void>;
  readonly #save: (state: Uint8Array) => void;
  #chain: Promise<void> = Promise.resolve();

  /** `writesSettled`: resolves once every write asked so far is settled; `save` hands a state to the file. */
  constructor(writesSettled: () => Promise<void>, save: (state: Uint8Array) => void) {
    this.#writesSettled = writesSettled;
    this.#save = save;
  }

  /** A state the worker made after the events it has already handed over. */
  offer(state: Uint8Array): void {
    const writes = this.#writesSettled();
    this.#chain = this.#chain.then(() => writes).then(() => this.#save(state), () => this.#save(state));
  }

  /** Resolves once every state offered so far has been handed to the file. */
  settled(): Promise<void> {
    return this.#chain;
  }
}
