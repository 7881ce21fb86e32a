/** The per-request checks the routes share, built once per hub: authorization and the per-client limits. */
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { Access } from '../auth/access.js';
import { AddressLimit } from '../limits/address-limit.js';
import { RateLimiter } from '../limits/rate-limit.js';

export interface Guards {
  readonly access: Access;
  readonly addresses: AddressLimit;
  readonly publishRate: RateLimiter;
}

export function createGuards(config: Config, log: Logger): Guards {
  return {
    access: new Access(config, log),
    addresses: new AddressLimit(config.maxConnectionsPerAddress),
    publishRate: new RateLimiter(config.publishRate, config.publishBurst, config.rateLimitMaxKeys),
  };
}
