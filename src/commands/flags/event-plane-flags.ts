/**
 * The event-plane flags `dynamo worker` and `dynamo frontend` share: KV events straight from each
 * worker over the request plane (tcp, the default), or through NATS. `dynamo up` sets them from
 * the config's `eventPlane` section. The subject's namespace is the deployment (`--deployment`).
 */
import {Flags} from '@oclif/core';
import {configDefaults, configDescription as doc} from '../../config/defaults.js';
import {EVENT_PLANES} from '../../config/schema.js';
import type {NatsEventsTarget} from '../../runtime/event-plane/nats.js';
import {UserError} from '../../shared/errors.js';
import {deploymentName} from './discovery-flags.js';

const D = configDefaults();

export const eventPlaneFlags = {
  'event-plane': Flags.string({options: [...EVENT_PLANES], default: D.eventPlane.backend, description: doc(['eventPlane', 'backend'])}),
  'nats-url': Flags.string({description: 'NATS server URL(s), comma-separated (--event-plane nats)'}),
};

export function natsEventsTarget(flags: {'event-plane': string; 'nats-url'?: string; deployment?: string}): NatsEventsTarget | undefined {
  if (flags['event-plane'] !== 'nats') return undefined;
  const url = flags['nats-url'];
  if (!url) throw new UserError('--event-plane nats needs --nats-url', 'give the NATS server, e.g. --nats-url nats://10.0.0.10:4222 (dynamo up runs one itself when the config names none)');
  return {url, deployment: deploymentName(flags)};
}
