/**
 * Debian's libcoap3-bin `coap-client-notls` (libcoap's example client, not our code) sending one
 * request; at verbosity 7 it logs every PDU it sends and receives, from which `answers` are read:
 * the type and code of each response PDU (`v:1 t:ACK c:2.04 ...`), in order.
 */
import { execFile, spawnSync } from 'node:child_process';

export const COAP_CLIENT = '/usr/bin/coap-client-notls';

export function findCoapClient(): boolean {
  return spawnSync(COAP_CLIENT, ['-h']).error === undefined;
}

export interface CoapClientRun {
  /** Each response PDU it received: [type, code], `['ACK', '2.04']`, `['NON', '2.04']`, `['ACK', '2.31']`. */
  readonly answers: ReadonlyArray<readonly [string, string]>;
  /** Message ids of the requests it sent, retransmissions included, in order. */
  readonly sent: readonly string[];
  readonly log: string;
}

export function coapClient(args: readonly string[], timeoutMs = 30_000): Promise<CoapClientRun> {
  return new Promise((resolve) => {
    execFile(COAP_CLIENT, ['-v', '7', '-B', '10', ...args], { timeout: timeoutMs, maxBuffer: 16 << 20 }, (_err, stdout, stderr) => {
      const log = `${String(stdout)}${String(stderr)}`;
      const answers: Array<[string, string]> = [];
      const sent: string[] = [];
      for (const m of log.matchAll(/^v:1 t:(CON|NON|ACK|RST) c:(\S+) i:([0-9a-f]+)/gm)) {
        if (/^\d\.\d\d$/.test(m[2]!)) answers.push([m[1]!, m[2]!]);
        else if (m[1] === 'CON' || m[1] === 'NON') sent.push(m[3]!);
      }
      resolve({ answers, sent, log });
    });
  });
}
