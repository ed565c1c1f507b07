/**
 * Certificates made by the test with Debian's openssl in a temp dir: the test's CA, a broker
 * certificate it signed (SAN 127.0.0.1 and localhost), a client certificate it signed (CN gateway-1),
 * and a second, unrelated CA with a client certificate of its own (the "wrong" ones). EC P-256 keys,
 * valid two days. Nothing here is written by our code, so a test cannot pass by agreeing with itself.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTool } from './tools.js';

export interface TlsFiles {
  readonly dir: string;
  /** The CA that signed the broker's and the client's certificates. */
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  /** Signed by `ca`, CN `gateway-1` (mosquitto's use_identity_as_username makes it the user name). */
  readonly clientCert: string;
  readonly clientKey: string;
  /** A CA that signed nothing the broker uses. */
  readonly otherCa: string;
  /** Signed by `otherCa`, CN `gateway-1`: the same name, not the same trust. */
  readonly strangerCert: string;
  readonly strangerKey: string;
  dispose(): void;
}

export const CLIENT_CN = 'gateway-1';

export function opensslPath(): string | undefined {
  return findTool('openssl');
}

export function makeTlsFiles(): TlsFiles {
  const openssl = opensslPath();
  if (!openssl) throw new Error('openssl not installed');
  const dir = mkdtempSync(join(tmpdir(), 'wasmgate-tls-'));
  const at = (name: string) => join(dir, name);
  const run = (args: string[]) => execFileSync(openssl, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

  const makeCa = (name: string) => {
    run(['req', '-x509', ...newKey, '-keyout', at(`${name}.key`), '-out', at(`${name}.pem`), '-days', '2', '-subj', `/CN=wasmgate test ${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  };
  const makeLeaf = (name: string, ca: string, cn: string, extensions: string[]) => {
    run(['req', ...newKey, '-keyout', at(`${name}.key`), '-out', at(`${name}.csr`), '-subj', `/CN=${cn}`]);
    writeFileSync(at(`${name}.ext`), extensions.join('\n') + '\n');
    run(['x509', '-req', '-in', at(`${name}.csr`), '-CA', at(`${ca}.pem`), '-CAkey', at(`${ca}.key`), '-CAcreateserial',
      '-out', at(`${name}.pem`), '-days', '2', '-extfile', at(`${name}.ext`)]);
  };

  try {
    makeCa('ca');
    makeCa('other-ca');
    makeLeaf('server', 'ca', 'localhost', ['subjectAltName=IP:127.0.0.1,DNS:localhost', 'extendedKeyUsage=serverAuth']);
    makeLeaf('client', 'ca', CLIENT_CN, ['extendedKeyUsage=clientAuth']);
    makeLeaf('stranger', 'other-ca', CLIENT_CN, ['extendedKeyUsage=clientAuth']);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    dir,
    ca: at('ca.pem'),
    serverCert: at('server.pem'),
    serverKey: at('server.key'),
    clientCert: at('client.pem'),
    clientKey: at('client.key'),
    otherCa: at('other-ca.pem'),
    strangerCert: at('stranger.pem'),
    strangerKey: at('stranger.key'),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
