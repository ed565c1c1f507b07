/**
 * The settings document every step receives in wg_configure (docs/plugin-abi.md). Built in one place
 * so the worker's instances and the I/O thread's polling instance see the same document.
 */
import type { ChainContext } from './chain.js';

export interface SettingsDocument {
  abi: 1;
  pipeline: string;
  step: number;
  plugin: string;
  with: unknown;
  devices: unknown[];
  points: ChainContext['points'];
}

export function settingsDocument(context: ChainContext, step: number, plugin: string, settings: unknown, points: ChainContext['points'] = context.points): SettingsDocument {
  return { abi: 1, pipeline: context.pipeline, step, plugin, with: settings, devices: context.devices, points };
}
