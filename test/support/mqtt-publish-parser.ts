/**
 * The PUBLISH packets in bytes a sink wrote, parsed with mqtt-packet (an implementation that is not
 * the sink's own slab writer), for the tests that read what crossed a TCP relay.
 */
import mqttPacket from 'mqtt-packet';

export function publishes(chunks: readonly Buffer[]): mqttPacket.IPublishPacket[] {
  const parser = mqttPacket.parser({ protocolVersion: 5 });
  const out: mqttPacket.IPublishPacket[] = [];
  parser.on('packet', (p) => {
    if (p.cmd === 'publish') out.push(p as mqttPacket.IPublishPacket);
  });
  for (const chunk of chunks) parser.parse(chunk);
  return out;
}
