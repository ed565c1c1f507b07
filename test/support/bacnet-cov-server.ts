/**
 * COV for the @bacnet-js/client device simulator (bacnet-device.ts): it accepts SubscribeCOV
 * (ASHRAE 135, 13.14) with a Simple-ACK, keeps each subscription by subscriber address, process
 * identifier and object, sends the initial notification right after each subscription (13.1.2) and one
 * whenever a test changes a value of a subscribed object (its Present_Value and Status_Flags, as
 * 13.1 lists them for the input, output and value objects), confirmed or unconfirmed as asked. What
 * it was sent and what came back is recorded for the tests: every SubscribeCOV (cancellations too) and
 * every confirmed notification the subscriber acknowledged, as bacnet-js saw the Simple-ACK.
 */
import bacnetJs from '@bacnet-js/client';
import type { BACNetAddress, BACNetAppData } from '@bacnet-js/client';
import type { SimObject } from './bacnet-device.js';

type Client = InstanceType<typeof bacnetJs.default>;
const { ApplicationTag } = bacnetJs;

export interface SubscribeRecord {
  processId: number;
  object: string;
  cancel: boolean;
  confirmed: boolean;
  lifetime: number;
}

export interface CovServer {
  /** Every SubscribeCOV received, in order. */
  readonly requests: SubscribeRecord[];
  /** Confirmed notifications the subscriber acknowledged (a Simple-ACK reached bacnet-js), and those it did not. */
  readonly acked: () => number;
  readonly unacked: () => number;
  /** Notifications sent (initial ones and changes). */
  readonly sent: () => number;
  /** A value of object `type:instance` changed: notify its subscribers. */
  changed(type: number, instance: number): void;
}

interface Subscription {
  receiver: BACNetAddress;
  processId: number;
  type: number;
  instance: number;
  confirmed: boolean;
  lifetime: number;
}

const PRESENT_VALUE = 85;
const STATUS_FLAGS = 111;
/** Status_Flags all clear: four bits, none set. */
const NO_FLAGS: BACNetAppData[] = [{ type: ApplicationTag.BIT_STRING, value: { bitsUsed: 4, value: [0x00] } }];

export function serveCov(client: Client, table: Map<string, SimObject>, deviceInstance: number, answering: () => boolean): CovServer {
  const requests: SubscribeRecord[] = [];
  const subscriptions = new Map<string, Subscription>();
  let acked = 0;
  let unacked = 0;
  let sent = 0;

  const notify = (s: Subscription): void => {
    const object = table.get(`${s.type}:${s.instance}`);
    if (!object) return;
    const values = [
      { property: { id: PRESENT_VALUE }, value: object.properties[PRESENT_VALUE] ?? [] },
      { property: { id: STATUS_FLAGS }, value: object.properties[STATUS_FLAGS] ?? NO_FLAGS },
    ];
    sent++;
    const objectId = { type: s.type, instance: s.instance };
    if (!s.confirmed) return client.unconfirmedCOVNotification(s.receiver, s.processId, deviceInstance, objectId, s.lifetime, values);
    client.confirmedCOVNotification(s.receiver, objectId, s.processId, deviceInstance, s.lifetime, values).then(() => acked++, () => unacked++);
  };

  client.on('subscribeCov', (content) => {
    const p = content.payload as { subscriberProcessId: number; monitoredObjectId: { type: number; instance: number }; cancellationRequest: boolean; issueConfirmedNotifications?: boolean; lifetime?: number };
    const receiver = content.header!.sender;
    const record = { processId: p.subscriberProcessId, object: `${p.monitoredObjectId.type}:${p.monitoredObjectId.instance}`, cancel: p.cancellationRequest, confirmed: p.issueConfirmedNotifications ?? false, lifetime: p.lifetime ?? 0 };
    requests.push(record);
    if (!answering()) return;
    const key = `${receiver.address}|${record.processId}|${record.object}`;
    client.simpleAckResponse(receiver, content.service!, content.invokeId!);
    if (record.cancel) {
      subscriptions.delete(key);
      return;
    }
    const subscription = { receiver, processId: record.processId, ...p.monitoredObjectId, confirmed: record.confirmed, lifetime: record.lifetime };
    subscriptions.set(key, subscription);
    notify(subscription);
  });

  return {
    requests,
    acked: () => acked,
    unacked: () => unacked,
    sent: () => sent,
    changed(type, instance) {
      for (const s of subscriptions.values()) if (s.type === type && s.instance === instance) notify(s);
    },
  };
}
