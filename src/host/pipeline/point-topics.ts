/**
 * The topic each point of a pipeline is published on (its `publish.topic` rendered), and the topic of
 * a message about many points. Pipeline assembly routes the encoder's messages by them; the config
 * checks look for subscriptions that would take the gateway's own messages back in (subscription-loop-checks.ts).
 */
import type { ResolvedPipeline } from '../config/resolved.js';
import { renderTopic } from '../config/topic-template.js';

/** `{address}` and `{function}` of a topic: a Modbus point's register and function; a BACnet point's object (`analog-input:3`) and property. */
function whereInDevice(p: ResolvedPipeline['points'][number]): { address: string; function: string } {
  if (p.protocol === 'bacnet') return { address: `${p.objectTypeName}:${p.instance}`, function: p.propertyName };
  // A pushed point's resource, where it has one of its own; no function.
  if (p.protocol === 'push') return { address: p.resource ?? '', function: '' };
  return { address: String(p.address), function: String(p.function) };
}

export function pointTopics(pipeline: ResolvedPipeline, gateway: string): { byPoint: string[]; many: string } {
  const devices = pipeline.source.devices;
  const byPoint = pipeline.points.map((p) =>
    renderTopic(pipeline.publish.topic, { gateway, pipeline: pipeline.name, device: devices[p.device]!.name, point: p.name, ...whereInDevice(p) }),
  );
  const many = renderTopic(pipeline.publish.topic, { gateway, pipeline: pipeline.name, device: '', point: '', address: '', function: '' }).replace(/\/+$/, '').replace(/\/{2,}/g, '/');
  return { byPoint, many };
}
