/**
 * A stand-in for systemd's notification socket, for tests of Type=notify: python3's socket module binds
 * a real AF_UNIX SOCK_DGRAM socket (as the service manager does) and reports every datagram the daemon
 * sends, with the wall time it arrived. It does what systemd's end does with a datagram, minus acting on
 * it: no credentials are checked (NotifyAccess= is the unit's business, not the daemon's).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { REPO_ROOT } from './plugins.js';
import { findTool } from './tools.js';
import { waitFor } from './wait.js';

export interface Notification {
  /** Wall time of arrival, ms since the epoch. */
  t: number;
  fields: string[];
}

export interface NotifyListener {
  readonly path: string;
  readonly received: readonly Notification[];
  /** Every datagram that carries `field` (`READY=1`, `WATCHDOG=1`). */
  with(field: string): Notification[];
  waitFor(field: string, count: number, timeoutMs: number): Promise<Notification[]>;
  close(): void;
}

export function notifyPython(): string | undefined {
  return findTool('python3', ['/usr/bin/python3']);
}

export async function startNotifyListener(dir: string): Promise<NotifyListener> {
  const path = join(dir, 'notify.sock');
  const child = spawn(notifyPython()!, [join(REPO_ROOT, 'test/support/notify_listener.py'), path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const received: Notification[] = [];
  let listening = false;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const parsed = JSON.parse(line) as Notification | { listening: string };
    if ('listening' in parsed) listening = true;
    else received.push(parsed);
  });
  await waitFor(() => listening || child.exitCode !== null, 10_000, () => 'the notify listener did not bind');
  if (!listening) throw new Error('the notify listener exited before binding');
  const withField = (field: string): Notification[] => received.filter((n) => n.fields.includes(field));
  return {
    path,
    received,
    with: withField,
    async waitFor(field, count, timeoutMs) {
      await waitFor(() => withField(field).length >= count, timeoutMs, () => `(${withField(field).length} of ${count} ${field}; received ${JSON.stringify(received.slice(-5))})`);
      return withField(field);
    },
    close: () => void child.kill(),
  };
}
