/**
 * The memory outbox against the outbox contract (outbox-contract.ts).
 */
import { MemoryOutbox } from '../../src/host/outbox/memory-outbox.js';
import { describeOutboxContract } from './outbox-contract.js';

describeOutboxContract('memory', { open: (caps, clock) => new MemoryOutbox({ caps, clock }) });
