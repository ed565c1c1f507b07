// Block1 transfers as the coap_server source takes them (RFC 7959): the option's encoding by hand
// (2.2: NUM in the high bits, M in bit 3, SZX in bits 0-2, block size 2^(SZX+4)), the simple atomic
// block-wise PUT of Figure 7 (three blocks of 128 bytes, 2.31 Continue for the first two), and the
// bounds: a block that does not continue its transfer, a NUM far past anything received, too many
// transfers, a transfer past max_body.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Block1Transfers, block1Value, parseBlock1 } from '../../src/host/sources/coap-block1.js';
import { CoapExchanges, EXCHANGE_LIFETIME_MS } from '../../src/host/sources/coap-exchanges.js';

test('the Block1 option: NUM, M, SZX in 1 to 3 bytes; SZX 7 is reserved', () => {
  // Figure 7's 1:0/1/128 is NUM 0, M 1, SZX 3: 0x0b; 1:2/0/128 is 0x23.
  assert.deepEqual(parseBlock1(Uint8Array.of(0x0b)), { num: 0, more: true, szx: 3 });
  assert.deepEqual(parseBlock1(Uint8Array.of(0x23)), { num: 2, more: false, szx: 3 });
  assert.deepEqual(block1Value({ num: 2, more: false, szx: 3 }), Uint8Array.of(0x23));
  // NUM 4095 = 0xfff: 0xfff << 4 | 8 | 6 = 0xfffe, two bytes; NUM 2^20 - 1 needs three.
  assert.deepEqual(block1Value({ num: 4095, more: true, szx: 6 }), Uint8Array.of(0xff, 0xfe));
  assert.deepEqual(parseBlock1(Uint8Array.of(0xff, 0xff, 0xfe)), { num: 0xfffff, more: true, szx: 6 });
  assert.equal(parseBlock1(Uint8Array.of(0x07)), undefined);
  assert.equal(parseBlock1(Uint8Array.of(1, 2, 3, 4)), undefined);
});

test('Figure 7: three blocks of 128 bytes make one body of 384; the first two are continued', () => {
  const blocks = new Block1Transfers(4, 1024, 30_000);
  const part = (n: number) => new Uint8Array(128).fill(n);
  assert.deepEqual(blocks.take('a', { num: 0, more: true, szx: 3 }, part(1), 0), { kind: 'continue' });
  assert.deepEqual(blocks.take('a', { num: 1, more: true, szx: 3 }, part(2), 1), { kind: 'continue' });
  const last = blocks.take('a', { num: 2, more: false, szx: 3 }, part(3).subarray(0, 100), 2);
  assert.equal(last.kind, 'complete');
  if (last.kind !== 'complete') return;
  assert.equal(last.body.byteLength, 356);
  assert.deepEqual([last.body[0], last.body[127], last.body[128], last.body[256], last.body[355]], [1, 1, 2, 3, 3]);
  assert.equal(blocks.size, 0);
});

test('a block out of order, and an offset bomb (NUM 2^20-1 of 1024-byte blocks), are incomplete: nothing held', () => {
  const blocks = new Block1Transfers(4, 1024, 30_000);
  assert.deepEqual(blocks.take('a', { num: 0xfffff, more: false, szx: 6 }, new Uint8Array(16), 0), { kind: 'incomplete' });
  blocks.take('b', { num: 0, more: true, szx: 0 }, new Uint8Array(16), 0);
  assert.deepEqual(blocks.take('b', { num: 2, more: true, szx: 0 }, new Uint8Array(16), 0), { kind: 'incomplete' });
  assert.equal(blocks.size, 0, 'the broken transfer is forgotten');
  // A non-final block shorter than its SZX says is not one either.
  assert.deepEqual(blocks.take('c', { num: 0, more: true, szx: 1 }, new Uint8Array(31), 0), { kind: 'incomplete' });
});

test('transfers are bounded in number, in bytes and in time', () => {
  const blocks = new Block1Transfers(2, 64, 1000);
  const first = (key: string, now: number) => blocks.take(key, { num: 0, more: true, szx: 0 }, new Uint8Array(16), now);
  assert.deepEqual([first('a', 0).kind, first('b', 0).kind, first('c', 0).kind], ['continue', 'continue', 'busy']);
  assert.deepEqual(first('c', 1000).kind, 'continue', 'a and b expired 1000 ms after their last block');
  for (let n = 1; n < 4; n++) assert.equal(blocks.take('c', { num: n, more: true, szx: 0 }, new Uint8Array(16), 1000).kind, 'continue');
  assert.deepEqual(blocks.take('c', { num: 4, more: false, szx: 0 }, new Uint8Array(1), 1000), { kind: 'too_large' }, '65 bytes past max_body 64');
  assert.deepEqual(blocks.take('d', { num: 0, more: false, szx: 6 }, new Uint8Array(65), 1000), { kind: 'too_large' });
});

test('exchanges: a pending message is seen as pending, an answered one gives its answer until EXCHANGE_LIFETIME; the oldest go first', () => {
  const ex = new CoapExchanges(16);
  ex.pend('a#1');
  assert.equal(ex.seen('a#1', 0), 'pending');
  ex.answer('a#1', Uint8Array.of(0x60), 0);
  assert.deepEqual(ex.seen('a#1', EXCHANGE_LIFETIME_MS - 1), Uint8Array.of(0x60));
  assert.equal(ex.seen('a#1', EXCHANGE_LIFETIME_MS), undefined);
  for (let i = 0; i < 100; i++) ex.answer(`b#${i}`, Uint8Array.of(i), 1);
  assert.equal(ex.size, 16);
  assert.equal(ex.evicted, 84);
  assert.equal(ex.seen('b#83', 2), undefined);
  assert.deepEqual(ex.seen('b#84', 2), Uint8Array.of(84));
});
