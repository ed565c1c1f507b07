/**
 * Checks across pipelines: the sockets push sources bind. Two coap_server sources on one UDP port
 * cannot both start (the second's bind fails, EADDRINUSE, and its pipeline with it), so the loader
 * refuses the later one at its `port`, naming the earlier one, instead of the daemon at start. A
 * wildcard bind (0.0.0.0, ::) holds the port on every address of its family, and so collides with any
 * bind address of that family (and `::` with IPv4 ones too, as Linux binds it dual-stack). Port 0 is
 * the OS's pick, a port of its own each time, and never collides.
 */
import { isIPv6 } from 'node:net';
import type { ConfigProblem } from './problem.js';
import type { ResolvedGateway, ResolvedLink, ResolvedPipeline } from './resolved.js';
import type { YamlSource } from './yaml-source.js';

interface Bound {
  pipeline: ResolvedPipeline;
  link: ResolvedLink;
  address: string;
  port: number;
}

function wildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '::0';
}

/** Whether binds of `a` and `b` on one port collide. */
function collide(a: string, b: string): boolean {
  if (a === b) return true;
  const v6a = isIPv6(a);
  const v6b = isIPv6(b);
  if (wildcard(a) && (v6a ? true : !v6b)) return true;
  if (wildcard(b) && (v6b ? true : !v6a)) return true;
  return false;
}

export function checkPushPorts(config: ResolvedGateway, sourceOf: (file: string) => YamlSource): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const bound: Bound[] = [];
  for (const pipeline of config.pipelines) {
    for (const link of pipeline.source.links) {
      if (link.transport !== 'push' || link.coap === undefined || link.coap.port === 0) continue;
      const { bindAddress: address, port } = link.coap;
      const other = bound.find((b) => b.port === port && collide(b.address, address));
      if (other) {
        const p = sourceOf(other.pipeline.file).positionOf([...other.link.at, 'port']);
        problems.push(sourceOf(pipeline.file).problem([...link.at, 'port'], 'WG_ERR_CONFIG_CONFLICT', {
          detail: `udp port ${port} on ${address} is bound already by pipeline ${other.pipeline.name}'s ${other.link.kind} on ${other.address} (${other.pipeline.file}:${p.line}:${p.column}): one socket per port, so this source could never bind it`,
        }));
        continue;
      }
      bound.push({ pipeline, link, address, port });
    }
  }
  return problems;
}
