/**
 * What is in the TLS files an MQTT uplink names, checked at load: a CA file that holds no certificate
 * (Node ignores it, and every connection then fails to verify), a certificate that is not PEM, a key
 * that is not PEM or does not belong to the certificate. Without this they surface only as a TLS
 * error at the first connection, far from the line that is wrong.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import type { SettingChecks } from '../config/setting-checks.js';
import type { SettingPath } from '../config/setting-path.js';

/** The file's content, or undefined when it cannot be read (readableFile reported that). */
async function content(checks: SettingChecks, written: string | undefined): Promise<Buffer | undefined> {
  if (written === undefined) return undefined;
  return readFile(checks.absolute(written)).catch(() => undefined);
}

const why = (error: unknown) => (error instanceof Error ? error.message.replace(/^error:[0-9A-F]+:/, '') : String(error));

export async function checkTlsPem(tls: { ca?: string; cert?: string; key?: string }, at: SettingPath, checks: SettingChecks): Promise<void> {
  const [ca, cert, key] = await Promise.all([content(checks, tls.ca), content(checks, tls.cert), content(checks, tls.key)]);
  if (ca !== undefined && checks.clean([...at, 'ca'])) {
    try {
      new X509Certificate(ca);
    } catch (error) {
      checks.invalid([...at, 'ca'], `holds no PEM certificate (${why(error)})`);
    }
  }
  if (cert === undefined || key === undefined || !checks.clean([...at, 'cert']) || !checks.clean([...at, 'key'])) return;
  try {
    new X509Certificate(cert);
  } catch (error) {
    return checks.invalid([...at, 'cert'], `holds no PEM certificate (${why(error)})`);
  }
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    const mismatch = (error as { code?: unknown }).code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH';
    checks.invalid([...at, 'key'], mismatch ? 'is not the private key of tls.cert (the key values do not match)' : `holds no usable PEM private key (${why(error)})`);
  }
}
