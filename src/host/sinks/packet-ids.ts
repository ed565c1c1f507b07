/**
 * MQTT packet identifiers (MQTT 5 §2.2.1) for one connection's client, shared by the two writers of
 * PUBLISH packets on it: the sink's own data path (mqtt-publish-frames.ts), which writes its packets
 * straight to the socket, and MQTT.js, which still writes the status messages, pings and DISCONNECT.
 * MQTT.js takes its ids through this object (its `messageIdProvider` option); the sink takes its own
 * with `take`. An id is never given to one while the other holds it, so a PUBACK answers exactly one.
 *
 * MQTT.js calls `clear` at every CONNACK and then `register`s the packets it sends again: that forgets
 * only its own ids. The sink's ids stay taken across a reconnection, because the sink sends its
 * unacknowledged messages again with the same ids (MQTT 5 §4.4).
 */

const MAX_ID = 65_535;

/** The shape MQTT.js asks of a `messageIdProvider` (it does not export the type from its entry point). */
export interface MessageIdProvider {
  allocate(): number | null;
  getLastAllocated(): number | null;
  register(id: number): boolean;
  deallocate(id: number): void;
  clear(): void;
}

export class PacketIds implements MessageIdProvider {
  #next = 1;
  #last: number | null = null;
  /** Held by MQTT.js. */
  readonly #theirs = new Set<number>();
  /** Held by the sink. */
  readonly #ours = new Set<number>();

  /** A free id for the sink, or undefined when all 65,535 are held. */
  take(): number | undefined {
    const id = this.#free();
    if (id !== undefined) this.#ours.add(id);
    return id;
  }

  /** The sink's id `id` is free again (its PUBACK came, or the message was given up). */
  release(id: number): void {
    this.#ours.delete(id);
  }

  /** How many ids the sink holds. */
  get held(): number {
    return this.#ours.size;
  }

  allocate(): number | null {
    const id = this.#free();
    if (id === undefined) return null;
    this.#theirs.add(id);
    this.#last = id;
    return id;
  }

  getLastAllocated(): number | null {
    return this.#last;
  }

  /** MQTT.js sends a stored packet again with `id`: false (MQTT.js then drops it) only if the sink holds it. */
  register(id: number): boolean {
    if (this.#ours.has(id)) return false;
    this.#theirs.add(id);
    return true;
  }

  deallocate(id: number): void {
    this.#theirs.delete(id);
  }

  clear(): void {
    this.#theirs.clear();
  }

  #free(): number | undefined {
    for (let tries = 0; tries < MAX_ID; tries++) {
      const id = this.#next;
      this.#next = id === MAX_ID ? 1 : id + 1;
      if (!this.#theirs.has(id) && !this.#ours.has(id)) return id;
    }
    return undefined;
  }
}
