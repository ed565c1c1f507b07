/**
 * TLS against Debian's mosquitto, with certificates openssl made for the test (support/tls-certs.ts):
 * the broker's certificate verified against tls.ca, a wrong CA refused with the certificate problem
 * named, reject_unauthorized: false as the testing-only way around it, and mutual TLS where the broker
 * requires a client certificate and takes its CN as the user name, refusing no certificate and a
 * certificate of another CA. Each uplink is built from a gateway file by the real loader and uplink kind.
 * A subscriber on the broker's plain listener sees what arrived.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { isWgError } from '../../src/host/errors.js';
import type { MqttSink } from '../../src/host/sinks/mqtt.js';
import { mosquittoPath, startMosquitto, type MosquittoBroker } from '../support/mosquitto.js';
import { subscribe } from '../support/mqtt-subscriber.js';
import { mqttSinkFor } from '../support/mqtt-uplink-fixture.js';
import { CLIENT_CN, makeTlsFiles, opensslPath, type TlsFiles } from '../support/tls-certs.js';
import { needs } from '../support/tools.js';

const STEP_MS = 10_000;
const gate = needs('mosquitto and openssl', !!mosquittoPath() && !!opensslPath());

let files: TlsFiles;
/** TLS, the broker's certificate only. */
let serverTls: MosquittoBroker;
/** TLS with client certificates required. */
let mutualTls: MosquittoBroker;
const sinks: MqttSink[] = [];

before(async () => {
  if (gate.skip) return;
  files = makeTlsFiles();
  const tls = { ca: files.ca, cert: files.serverCert, key: files.serverKey };
  serverTls = await startMosquitto({ tls });
  mutualTls = await startMosquitto({ tls: { ...tls, requireCertificate: true } });
});

after(async () => {
  await Promise.all(sinks.splice(0).map((s) => s.close(1_000)));
  await serverTls?.dispose();
  await mutualTls?.dispose();
  files?.dispose();
});

async function sinkFor(url: string, tlsLines: string[]): Promise<MqttSink> {
  const sink = await mqttSinkFor([`      url: ${url}`, `      client_id: tls-${randomUUID().slice(0, 8)}`, '      qos: 1',
    '      reconnect: { min: 50ms, max: 500ms }', '      tls:', ...tlsLines.map((l) => `        ${l}`)]);
  sinks.push(sink);
  return sink;
}

async function refusal(sink: MqttSink): Promise<string> {
  sink.start();
  const error = await sink.waitConnected(STEP_MS).then(() => assert.fail('connected'), (e: unknown) => e);
  assert.ok(isWgError(error, 'WG_ERR_UPLINK_CONNECT'), String(error));
  assert.equal(error.context.uplink, 'cloud');
  assert.notEqual(sink.state, 'connected');
  return error.message;
}

test('with the CA that signed the broker\'s certificate: connects over TLS and delivers', gate, async () => {
  const topic = `tls/${randomUUID()}`;
  const sub = await subscribe(serverTls.url, topic);
  try {
    const sink = await sinkFor(serverTls.tlsUrl!, [`ca: ${files.ca}`]);
    sink.start();
    await sink.waitConnected(STEP_MS);
    await sink.publish(topic, 'over tls', { qos: 1 });
    assert.deepEqual((await sub.waitFor(1, STEP_MS)).map((m) => m.payload.toString()), ['over tls']);
  } finally {
    await sub.close();
  }
});

test('a CA that did not sign the broker\'s certificate is refused, the certificate problem named', gate, async () => {
  const message = await refusal(await sinkFor(serverTls.tlsUrl!, [`ca: ${files.otherCa}`]));
  // What OpenSSL says of a chain ending in a root we do not trust; the setting to look at.
  assert.match(message, /uplink cloud cannot connect: TLS: the broker's certificate does not verify: self-signed certificate in certificate chain \(SELF_SIGNED_CERT_IN_CHAIN\); tls\.ca/);
});

test('without tls.ca the system CAs do not know the test CA: refused the same way', gate, async () => {
  const message = await refusal(await sinkFor(serverTls.tlsUrl!, ['reject_unauthorized: true']));
  assert.match(message, /the broker's certificate does not verify: self-signed certificate in certificate chain/);
});

test('reject_unauthorized: false connects with the wrong CA (for testing only: anyone could be the broker)', gate, async () => {
  const sink = await sinkFor(serverTls.tlsUrl!, [`ca: ${files.otherCa}`, 'reject_unauthorized: false']);
  sink.start();
  await sink.waitConnected(STEP_MS);
  assert.equal(sink.state, 'connected');
});

test('mutual TLS: the client certificate the CA signed connects, and the broker takes its CN as the user name', gate, async () => {
  const sink = await sinkFor(mutualTls.tlsUrl!, [`ca: ${files.ca}`, `cert: ${files.clientCert}`, `key: ${files.clientKey}`]);
  sink.start();
  await sink.waitConnected(STEP_MS);
  // mosquitto logs the CONNECT as it accepted it: the user name is the certificate's CN.
  await mutualTls.waitForLog(new RegExp(`New client connected from 127\\.0\\.0\\.1:\\d+ as tls-\\w+ \\(p\\d, c1, k30, u'${CLIENT_CN}'\\)`));
});

test('mutual TLS without a client certificate is refused: the broker requires one', gate, async () => {
  const message = await refusal(await sinkFor(mutualTls.tlsUrl!, [`ca: ${files.ca}`]));
  assert.match(message, /TLS: the broker requires a client certificate and none was sent: set tls\.cert and tls\.key/);
});

test('mutual TLS with a certificate of another CA is refused: the broker does not trust its CA', gate, async () => {
  const message = await refusal(await sinkFor(mutualTls.tlsUrl!, [`ca: ${files.ca}`, `cert: ${files.strangerCert}`, `key: ${files.strangerKey}`]));
  assert.match(message, /TLS: the broker refused the client certificate \(tls\.cert\): it does not trust the CA that signed it \(TLS alert "unknown ca"\)/);
});
