/**
 * A BACnet device that pushes (@bacnet-js/client in a process of its own, so a benchmark measures the
 * gateway, not the notifier sharing its thread): it accepts SubscribeCOV for its `count` analog inputs
 * and, once the first subscription arrives, sends COV notifications (Present_Value, a new REAL each
 * time, and Status_Flags) round-robin over its subscriptions as fast as it can: unconfirmed ones in
 * bursts of 64 per turn of the event loop, confirmed ones with at most 64 waiting for their
 * Simple-ACK (bacnet-js numbers them by invoke id). Prints its port on stdout, then a line
 * `sent N acked M` every 50 ms (a share computed from them is right to within 50 ms of sending at
 * either end of a window); runs until killed.
 */
import bacnetJs from '@bacnet-js/client';
import type { BACNetAddress } from '@bacnet-js/client';
import { freeUdpPort } from '../test/support/bacnet-device.js';

const { default: BACnetClient, ApplicationTag } = bacnetJs;
const count = Number(process.argv[2] ?? 4);
const BURST = 64;
const port = await freeUdpPort();
const client = new BACnetClient({ port, interface: '127.0.0.1', broadcastAddress: '127.255.255.255', apduTimeout: 2000, reuseAddr: false });
client.on('error', () => undefined);
await new Promise<void>((resolve) => client.on('listening', () => resolve()));

interface Subscription { receiver: BACNetAddress; processId: number; instance: number; confirmed: boolean }
const subscriptions = new Map<string, Subscription>();
let sent = 0;
let acked = 0;
let inFlight = 0;
let next = 0;
let flooding = false;

client.on('subscribeCov', (content) => {
  const p = content.payload as unknown as { subscriberProcessId: number; monitoredObjectId: { type: number; instance: number }; cancellationRequest: boolean; issueConfirmedNotifications?: boolean };
  client.simpleAckResponse(content.header!.sender, content.service!, content.invokeId!);
  const key = `${p.subscriberProcessId}|${p.monitoredObjectId.instance}`;
  if (p.cancellationRequest) subscriptions.delete(key);
  else subscriptions.set(key, { receiver: content.header!.sender, processId: p.subscriberProcessId, instance: p.monitoredObjectId.instance, confirmed: p.issueConfirmedNotifications ?? false });
  if (!flooding && subscriptions.size > 0) {
    flooding = true;
    setImmediate(flood);
  }
});

function notify(s: Subscription): void {
  const values = [
    { property: { id: 85 }, value: [{ type: ApplicationTag.REAL, value: 20 + (sent % 1000) / 10 }] },
    { property: { id: 111 }, value: [{ type: ApplicationTag.BIT_STRING, value: { bitsUsed: 4, value: [0x00] } }] },
  ];
  sent++;
  const objectId = { type: 0, instance: s.instance };
  if (!s.confirmed) return client.unconfirmedCOVNotification(s.receiver, s.processId, 1, objectId, 3600, values);
  inFlight++;
  client.confirmedCOVNotification(s.receiver, objectId, s.processId, 1, 3600, values).then(() => acked++, () => undefined).finally(() => {
    inFlight--;
    if (inFlight === BURST / 2) setImmediate(flood);
  });
}

function flood(): void {
  const list = [...subscriptions.values()];
  if (list.length === 0) {
    flooding = false;
    return;
  }
  const confirmed = list[0]!.confirmed;
  for (let i = 0; i < BURST && (!confirmed || inFlight < BURST); i++) notify(list[next++ % list.length]!);
  if (!confirmed) setImmediate(flood);
}

process.stdout.write(`${port}\n`);
setInterval(() => process.stdout.write(`sent ${sent} acked ${acked}\n`), 50);
