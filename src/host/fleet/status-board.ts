/**
 * The rollout tool's view of the fleet (`wasmgate fleet rollout`): one MQTT client that publishes
 * commands to gateways' command topics and reads every status of the gateways it addresses, so that
 * a status is matched to the command it answers by id, whenever it comes (before the wait for it
 * begins, too).
 */
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { randomBytes } from 'node:crypto';
import { WgError } from '../errors.js';
import type { FleetStatus } from './fleet-status.js';
import { fleetTopics, type FleetTopics } from './fleet-topics.js';

export interface BrokerOptions {
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  readonly ca?: Buffer;
  readonly prefix: string;
}

export class StatusBoard {
  readonly #client: MqttClient;
  readonly #topics: FleetTopics;
  /** Every status received, per command id, in arrival order. */
  readonly #byCommand = new Map<string, FleetStatus[]>();
  readonly #listeners = new Set<(status: FleetStatus) => void>();

  private constructor(client: MqttClient, topics: FleetTopics) {
    this.#client = client;
    this.#topics = topics;
    client.on('message', (_topic, payload, packet) => {
      // A retained status is an earlier rollout's: it answers none of this run's commands (their ids are new).
      if (packet.retain) return;
      let status: FleetStatus;
      try {
        status = JSON.parse(payload.toString('utf8')) as FleetStatus;
      } catch {
        return; // not a gateway's status; nothing of ours
      }
      const id = status?.command?.id;
      if (typeof id === 'string') {
        const list = this.#byCommand.get(id) ?? [];
        list.push(status);
        this.#byCommand.set(id, list);
      }
      for (const listener of this.#listeners) listener(status);
    });
  }

  static async open(broker: BrokerOptions, gateways: readonly string[]): Promise<StatusBoard> {
    const topics = fleetTopics(broker.prefix);
    const options: IClientOptions = {
      clientId: `wasmgate-rollout-${randomBytes(6).toString('hex')}`,
      ...(broker.username !== undefined && { username: broker.username }),
      ...(broker.password !== undefined && { password: broker.password }),
      ...(broker.ca && { ca: broker.ca }),
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
    };
    let client: MqttClient;
    try {
      client = await connectAsync(broker.url, options);
    } catch (err) {
      throw new WgError('WG_ERR_FLEET_BROKER', { url: broker.url, detail: (err as Error).message }, { cause: err });
    }
    const board = new StatusBoard(client, topics);
    // One subscription per gateway: an ACL may let the operator read only the gateways it rolls out to.
    await client.subscribeAsync(gateways.map((g) => topics.status(g)), { qos: 1 });
    return board;
  }

  async send(gateway: string, command: Record<string, unknown>): Promise<void> {
    await this.#client.publishAsync(this.#topics.command(gateway), JSON.stringify(command), { qos: 1 });
  }

  /** The first status answering command `id`, or undefined after `timeoutMs`. */
  async answer(id: string, timeoutMs: number): Promise<FleetStatus | undefined> {
    const now = this.#byCommand.get(id)?.[0];
    if (now) return now;
    return new Promise((resolve) => {
      const done = (status: FleetStatus | undefined) => {
        clearTimeout(timer);
        this.#listeners.delete(listener);
        resolve(status);
      };
      const listener = (status: FleetStatus) => {
        if (status.command?.id === id) done(status);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      this.#listeners.add(listener);
    });
  }

  /** Calls `listener` with every status from now on; returns the function that stops it. */
  watch(listener: (status: FleetStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): Promise<void> {
    return this.#client.endAsync();
  }
}
