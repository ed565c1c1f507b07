// The serial transport against the transport contract, over a real socat pty pair: serialport opens
// one tty, and the peer is the other tty opened by Node (not through serialport). Then what only a
// serial port has: its framing set in the tty's termios (read back with stty, another program), the
// exclusive lock, RS-485 mode refused rather than ignored, and serialport loaded only when a port opens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, realpathSync, renameSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serialTransport, type SerialTransportOptions } from '../../src/hal/serial.js';
import { describeTransportContract, type TransportPair } from '../hal/transport.contract.js';
import { ptyPeer } from '../hal/pty-peer.js';
import { findSocat, startPtyPair, type PtyPair } from '../support/pty-pair.js';
import { findTool, needs } from '../support/tools.js';

const DEVICE = 'meter-bus';
const hasSocat = !!findSocat();

function options(path: string, more: Partial<SerialTransportOptions> = {}): SerialTransportOptions {
  return { device: DEVICE, path, baudRate: 9600, dataBits: 8, parity: 'even', stopBits: 1, connectTimeoutMs: 5_000, ...more };
}

async function makePair(more: { rxLimitBytes?: number } = {}): Promise<TransportPair> {
  const pair = await startPtyPair();
  const peer = ptyPeer(pair);
  // A fast presence check, so a test that removes the port does not wait the default second.
  const transport = serialTransport(options(pair.busPath, { presenceCheckMs: 50, ...more }));
  await transport.open();
  return {
    transport,
    peer,
    async dispose() {
      await transport.close();
      peer.release();
      await pair.stop();
    },
  };
}

const absentPath = join(mkdtempSync(join(tmpdir(), 'wasmgate-noport-')), 'ttyUSB9');

if (hasSocat) {
  describeTransportContract('serial over a socat pty pair', makePair, {
    device: DEVICE,
    peerClose: true,
    lossDiscardsInFlight: 'an unplugged adapter takes the bytes inside it along',
    unreachable: () => serialTransport({ ...options(absentPath), device: 'meter-absent' }),
  });
} else {
  test('transport contract: serial over a socat pty pair', needs('socat', false), () => {});
}

async function withPty(fn: (pair: PtyPair) => Promise<void>): Promise<void> {
  const pair = await startPtyPair();
  try {
    await fn(pair);
  } finally {
    await pair.stop();
  }
}

function stty(path: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('stty', ['-F', path, '-a'], { encoding: 'utf8' }, (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve(stdout))),
  );
}

// What a pty can show: Linux's pty driver keeps the speed, PARODD and CSTOPB a program sets, but forces
// CS8 and clears PARENB on every set (drivers/tty/pty.c, pty_set_termios; `stty -F <pty> parenb cs7`
// fails the same way), so parity on/off and 7 data bits cannot be seen here, only on a real UART.
test('serial: the framing is set on the tty (speed, odd/even, stop bits read back by stty)', needs('socat', hasSocat && !!findTool('stty')), () =>
  withPty(async (pair) => {
    const cases = [
      { settings: { baudRate: 9600, dataBits: 8, parity: 'even', stopBits: 1 }, expect: ['speed 9600 baud', ' -parodd', ' -cstopb'] },
      { settings: { baudRate: 19200, dataBits: 8, parity: 'none', stopBits: 2 }, expect: ['speed 19200 baud', ' cstopb'] },
      { settings: { baudRate: 115200, dataBits: 7, parity: 'odd', stopBits: 1 }, expect: ['speed 115200 baud', ' parodd', ' -cstopb'] },
    ] as const;
    for (const { settings, expect } of cases) {
      const transport = serialTransport(options(pair.busPath, settings));
      await transport.open();
      try {
        const termios = ` ${(await stty(pair.busPath)).replace(/\s+/g, ' ')} `;
        for (const flag of expect) assert.ok(termios.includes(flag + (flag.startsWith('speed') ? '' : ' ')), `${JSON.stringify(settings)}: stty shows "${flag.trim()}" in:\n${termios}`);
        assert.ok(termios.includes(' -ixon ') && termios.includes(' -crtscts '), 'no software or hardware flow control: Modbus frames are binary');
      } finally {
        await transport.close();
      }
    }
  }),
);

test('serial: a port another transport holds fails to open with WG_ERR_HAL_CONNECT (it is locked), and opens once released', needs('socat', hasSocat), () =>
  withPty(async (pair) => {
    const first = serialTransport(options(pair.busPath));
    const second = serialTransport({ ...options(pair.busPath), device: 'second' });
    await first.open();
    try {
      await assert.rejects(second.open(), (e: { code?: string; context?: { device?: string; detail?: string } }) => {
        assert.equal(e.code, 'WG_ERR_HAL_CONNECT');
        assert.equal(e.context?.device, 'second');
        assert.match(e.context?.detail ?? '', /lock/i, 'the OS reason says the port is locked');
        assert.ok(e.context?.detail?.startsWith(pair.busPath), 'the detail names the port');
        return true;
      });
      assert.equal(second.isOpen, false);
    } finally {
      await first.close();
    }
    await second.open();
    await second.close();
  }),
);

test('serial: a missing device file fails to open with WG_ERR_HAL_CONNECT and the OS reason', async () => {
  const transport = serialTransport(options(absentPath));
  await assert.rejects(transport.open(), (e: { code?: string; context?: { detail?: string } }) => {
    assert.equal(e.code, 'WG_ERR_HAL_CONNECT');
    assert.match(e.context?.detail ?? '', /No such file or directory/);
    return true;
  });
});

test('serial: RS-485 mode on a port that cannot take it fails to open with WG_ERR_HAL_CONNECT, never silently ignored', needs('socat', hasSocat), () =>
  withPty(async (pair) => {
    const transport = serialTransport(options(pair.busPath, { rs485: { rtsOnSend: true, delayRtsAfterSendMs: 1 } }));
    await assert.rejects(transport.open(), (e: { code?: string; context?: { detail?: string } }) => {
      assert.equal(e.code, 'WG_ERR_HAL_CONNECT');
      assert.match(e.context?.detail ?? '', /RS-485 mode is not supported by this port/);
      return true;
    });
    assert.equal(transport.isOpen, false);
    const plain = serialTransport(options(pair.busPath)); // the refusal did not leave the port held
    await plain.open();
    await plain.close();
  }),
);

test('serial: after the port went away, open() on the port back at its path re-establishes the link with an empty queue', needs('socat', hasSocat), async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmgate-replug-'));
  const first = await startPtyPair({ dir });
  const transport = serialTransport(options(first.busPath, { presenceCheckMs: 50 }));
  try {
    await transport.open();
    const pending = assert.rejects(transport.read(Infinity), { code: 'WG_ERR_HAL_LINK_LOST' });
    await first.stop(); // the adapter is unplugged
    await pending;
    assert.equal(transport.isOpen, false);
    await assert.rejects(transport.open(), { code: 'WG_ERR_HAL_CONNECT' }, 'nothing at the path while it is unplugged');

    const second = await startPtyPair({ dir }); // plugged back in: same path, a new tty behind it
    const peer = ptyPeer(second);
    try {
      await transport.open();
      assert.equal(transport.queuedBytes, 0);
      await transport.write(Uint8Array.from([1, 3, 0, 0, 0, 10, 0xc5, 0xcd]));
      assert.deepEqual(await peer.read(8, 5_000), Uint8Array.from([1, 3, 0, 0, 0, 10, 0xc5, 0xcd]));
    } finally {
      await transport.close();
      peer.release();
      await second.stop();
    }
  } finally {
    await transport.close();
    await first.stop();
  }
});

test('serial: serialport is loaded on the first open, not when the transport module is imported', needs('socat', hasSocat), () =>
  withPty(async (pair) => {
    // In a fresh process, so this test's own imports do not count. The CommonJS cache shows what loaded.
    const serialJs = fileURLToPath(new URL('../../src/hal/serial.js', import.meta.url));
    const script = `
      import { createRequire } from 'node:module';
      const { serialTransport } = await import(${JSON.stringify(serialJs)});
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('/node_modules/serialport/'));
      const t = serialTransport({ device: 'd', path: ${JSON.stringify(pair.busPath)}, baudRate: 9600, dataBits: 8, parity: 'even', stopBits: 1, connectTimeoutMs: 5000 });
      const before = loaded();
      await t.open();
      const after = loaded();
      await t.close();
      console.log(JSON.stringify({ before, after }));`;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }, (error, stdout, stderr) =>
        error ? reject(new Error(stderr)) : resolve(stdout),
      ),
    );
    assert.deepEqual(JSON.parse(out), { before: false, after: true });
  }),
);

// Permission denied needs a user the OS refuses: as root (root opens anything) the port is opened by a
// child running as nobody; as any other user the pty's mode is taken away from its owner, us.
test('serial: a port we may not open fails with WG_ERR_HAL_CONNECT and the OS reason', needs('socat', hasSocat), () =>
  withPty(async (pair) => {
    const device = realpathSync(pair.busPath); // /dev/pts/N, root:tty 0620 as socat made it
    const serialJs = fileURLToPath(new URL('../../src/hal/serial.js', import.meta.url));
    const script = `
      const { serialTransport } = await import(${JSON.stringify(serialJs)});
      const t = serialTransport({ device: 'd', path: ${JSON.stringify(device)}, baudRate: 9600, dataBits: 8, parity: 'even', stopBits: 1, connectTimeoutMs: 5000 });
      try { await t.open(); console.log(JSON.stringify({ opened: true })); await t.close(); }
      catch (e) { console.log(JSON.stringify({ code: e.code, detail: e.context.detail })); }`;
    const asRoot = process.getuid?.() === 0;
    const setpriv = findTool('setpriv');
    if (asRoot && !setpriv) return assert.fail('running as root without setpriv: cannot drop to a user the OS refuses');
    if (!asRoot) chmodSync(device, 0o000);
    const [command, args] = asRoot
      ? [setpriv as string, ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--input-type=module', '-e', script]]
      : [process.execPath, ['--input-type=module', '-e', script]];
    const out = await new Promise<string>((resolve, reject) =>
      execFile(command, args, { encoding: 'utf8' }, (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve(stdout))),
    );
    const result = JSON.parse(out) as { code?: string; detail?: string };
    assert.equal(result.code, 'WG_ERR_HAL_CONNECT');
    assert.match(result.detail ?? '', /Permission denied/);
  }),
);

// On Linux an unplugged USB adapter can leave reads returning end-of-file, which the serialport binding
// retries instead of reporting; the device file vanishing, or naming another device, is what tells.
// Here the port's path is changed under an open transport while its pty stays, so only that check can see it.
test('serial: the port\'s device file vanishing, or becoming another device, ends the link with WG_ERR_HAL_LINK_LOST', needs('socat', hasSocat), async () => {
  const first = await startPtyPair();
  const second = await startPtyPair();
  const gone = serialTransport(options(first.busPath, { presenceCheckMs: 20 }));
  try {
    await gone.open();
    const lost = assert.rejects(gone.read(Infinity), (e: { code?: string; context?: { detail?: string } }) => {
      assert.equal(e.code, 'WG_ERR_HAL_LINK_LOST');
      assert.match(e.context?.detail ?? '', /is gone/);
      return true;
    });
    unlinkSync(first.busPath); // udev removes the node; the tty itself (socat) is still there
    await lost;

    // A stand-in for a re-plugged adapter: a link to another tty (first's peer end), moved below onto the
    // path of a port that is open, as a new node takes over a name.
    symlinkSync(realpathSync(first.peerPath), first.busPath);
    const replaced = serialTransport(options(second.busPath, { presenceCheckMs: 20 }));
    await replaced.open();
    try {
      const swapped = assert.rejects(replaced.read(Infinity), (e: { code?: string; context?: { detail?: string } }) => {
        assert.equal(e.code, 'WG_ERR_HAL_LINK_LOST');
        assert.match(e.context?.detail ?? '', /is another device now/);
        return true;
      });
      renameSync(first.busPath, second.busPath); // atomically: second.busPath now names another tty
      await swapped;
    } finally {
      await replaced.close();
    }
  } finally {
    await gone.close();
    await first.stop();
    await second.stop();
  }
});
