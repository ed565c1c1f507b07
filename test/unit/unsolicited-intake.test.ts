// UnsolicitedIntake bounds what a flood of unsolicited frames can hold: frames waiting for room in a
// full ingress ring, and replies being built in the worker. The ring and the worker are stand-ins
// here (promises the test settles), since what is under test is only the counting and the bounds;
// the real ring and worker are in test/interop/bacnet-cov.test.ts.
import test from 'node:test';
import assert from 'node:assert/strict';
import { UnsolicitedIntake } from '../../src/host/poll/unsolicited-intake.js';
import type { FrameIngress } from '../../src/host/poll/frame-ingress.js';

function deferred<T>(): { promise: Promise<T>; resolve(v: T): void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const tick = () => new Promise((r) => setImmediate(r));

test('past 1024 frames waiting for a full ring, the next is dropped and counted', async () => {
  const room = deferred<boolean>();
  const written: string[] = [];
  const ingress = { writeUnsolicited: (_d: number, sender: string) => { written.push(sender); return room.promise; } } as unknown as FrameIngress;
  const intake = new UnsolicitedIntake({ ingress, device: 0, sender: '127.0.0.1:47808', wallMs: () => 0, send: () => Promise.resolve() });
  for (let i = 0; i < 1025; i++) intake.take(new Uint8Array([i & 0xff]));
  assert.equal(written.length, 1024);
  assert.equal(intake.counters.dropped, 1);
  room.resolve(true);
  await tick();
  await tick();
  intake.take(new Uint8Array([1]));
  assert.equal(written.length, 1025, 'room again once the ring took them');
});

test('a reply goes out after the frame is in the ring; past 256 replies in the worker a frame gets none', async () => {
  const ingress = { writeUnsolicited: () => Promise.resolve(true) } as unknown as FrameIngress;
  const built = deferred<Uint8Array | null>();
  let asked = 0;
  const sent: Uint8Array[] = [];
  const intake = new UnsolicitedIntake({
    ingress, device: 0, sender: 'x', wallMs: () => 0,
    reply: () => { asked++; return built.promise; },
    send: (f) => { sent.push(f); return Promise.resolve(); },
  });
  for (let i = 0; i < 257; i++) intake.take(new Uint8Array([i & 0xff]));
  await tick();
  await tick();
  assert.equal(asked, 256);
  assert.equal(intake.counters.repliesSkipped, 1);
  built.resolve(Uint8Array.from([0x20, 1, 1]));
  await tick();
  await tick();
  assert.equal(sent.length, 256);
  assert.equal(intake.counters.replies, 256);
});

test('a frame the ring did not take (a decoder too old for unsolicited frames) gets no reply', async () => {
  const ingress = { writeUnsolicited: () => Promise.resolve(false) } as unknown as FrameIngress;
  let asked = 0;
  const intake = new UnsolicitedIntake({ ingress, device: 0, sender: 'x', wallMs: () => 0, reply: () => { asked++; return Promise.resolve(null); }, send: () => Promise.resolve() });
  intake.take(new Uint8Array([1]));
  await tick();
  await tick();
  assert.equal(asked, 0);
});

test('a frame the framing rule says wants no reply never reaches the worker', async () => {
  const ingress = { writeUnsolicited: () => Promise.resolve(true) } as unknown as FrameIngress;
  let asked = 0;
  const intake = new UnsolicitedIntake({
    ingress, device: 0, sender: 'x', wallMs: () => 0, wantsReply: (f) => f[0] === 0,
    reply: () => { asked++; return Promise.resolve(null); }, send: () => Promise.resolve(),
  });
  intake.take(new Uint8Array([1]));
  intake.take(new Uint8Array([0]));
  await tick();
  await tick();
  assert.equal(asked, 1);
  assert.equal(intake.counters.repliesSkipped, 0);
});
