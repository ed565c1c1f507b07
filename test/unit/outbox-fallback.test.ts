/**
 * The fallback outbox against the outbox contract (outbox-contract.ts), both ways it can run: over
 * a working SQLite store, and in memory because the durable store cannot be opened. The second uses
 * an `openDurable` that throws WG_ERR_OUTBOX_READ_ONLY by hand, since the contract is about serving,
 * not storage; the real read-only and disk-full cases are in test/integration/outbox-storage-faults.test.ts.
 */
import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WgError } from '../../src/host/errors.js';
import { FallbackOutbox } from '../../src/host/outbox/fallback-outbox.js';
import { SqliteOutbox } from '../../src/host/outbox/sqlite-outbox.js';
import { describeOutboxContract } from './outbox-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'wasmgate-outbox-fallback-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

describeOutboxContract('fallback over sqlite', {
  open: (caps, clock) => {
    const file = join(dir, `outbox-${++files}.db`);
    return new FallbackOutbox({ openDurable: () => new SqliteOutbox({ file, caps, clock }), memoryCaps: caps, clock });
  },
});

describeOutboxContract('fallback in memory (durable store refused)', {
  open: (caps, clock) =>
    new FallbackOutbox({
      openDurable: () => {
        throw new WgError('WG_ERR_OUTBOX_READ_ONLY', { file: 'nowhere', detail: 'refused by the test' });
      },
      memoryCaps: caps,
      clock,
      retryMs: Number.POSITIVE_INFINITY,
    }),
});
