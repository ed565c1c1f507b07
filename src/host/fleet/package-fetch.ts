/**
 * Fetching a package a command names by URL (docs/fleet.md, "Packages by URL"): one GET, no redirects
 * followed (the command names the place; a redirect is a place it did not name), at most `maxBytes`
 * (a Content-Length above it is refused before the body, a body growing past it is cut off), and one
 * deadline from the request to the last byte, so a server that stalls mid-body costs that and no more.
 * The bytes are checked against the command's sha256 by the caller before anything reads them.
 */
import type { IncomingMessage } from 'node:http';
import { WgError } from '../errors.js';

export interface FetchLimits {
  readonly maxBytes: number;
  readonly timeoutMs: number;
}

export async function fetchPackage(id: string, url: string, limits: FetchLimits): Promise<Uint8Array> {
  const { get } = url.startsWith('https:') ? await import('node:https') : await import('node:http');
  const fail = (detail: string) => new WgError('WG_ERR_FLEET_FETCH', { id, url, detail });
  return new Promise<Uint8Array>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const done = (err: WgError | null, bytes?: Uint8Array) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      request.destroy();
      if (err) reject(err);
      else resolve(bytes!);
    };
    const request = get(url, { headers: { accept: 'application/octet-stream' } }, (response: IncomingMessage) => {
      const status = response.statusCode ?? 0;
      if (status !== 200) return done(fail(`the server answered ${status}${response.statusMessage ? ` ${response.statusMessage}` : ''}${status >= 300 && status < 400 ? ' (redirects are not followed)' : ''}`));
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > limits.maxBytes) {
        return done(new WgError('WG_ERR_FLEET_PACKAGE_SIZE', { id, limit: limits.maxBytes, detail: `the server declares ${declared} bytes` }));
      }
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > limits.maxBytes) return done(new WgError('WG_ERR_FLEET_PACKAGE_SIZE', { id, limit: limits.maxBytes, detail: `the server sent more than that` }));
        chunks.push(chunk);
      });
      response.on('end', () => done(null, Buffer.concat(chunks)));
      response.on('error', (err) => done(fail(err.message)));
      response.on('aborted', () => done(fail('the server broke the connection mid-body')));
    });
    request.on('error', (err) => done(fail(err.message)));
    const deadline = setTimeout(() => done(fail(`not complete within ${limits.timeoutMs} ms (fleet.fetch_timeout); ${received} bytes came`)), limits.timeoutMs);
  });
}
