/**
 * The fleet's topic layout (docs/fleet.md, "Topics"), one place for the gateway and for
 * `wasmgate fleet rollout`. Gateways and groups sit under levels of their own, so that no gateway id
 * can be mistaken for a group and a broker ACL can give each gateway its own subtree
 * (`pattern read wasmgate/fleet/gateway/%u/command`).
 *
 *   <prefix>/gateway/<gateway id>/command     rollout commands to one gateway (QoS 1)
 *   <prefix>/gateway/<gateway id>/status      its outcome of each, retained (QoS 1)
 *   <prefix>/group/<group>/command            commands to every gateway of a group
 */
export interface FleetTopics {
  command(gateway: string): string;
  status(gateway: string): string;
  groupCommand(group: string): string;
}

export function fleetTopics(prefix: string): FleetTopics {
  return {
    command: (gateway) => `${prefix}/gateway/${gateway}/command`,
    status: (gateway) => `${prefix}/gateway/${gateway}/status`,
    groupCommand: (group) => `${prefix}/group/${group}/command`,
  };
}
