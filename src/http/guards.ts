/**
 * The per-request checks the routes share, built once per hub: CORS, the query guard, authorization
 * and the per-client limits. Hono's routes and the event streams served before Hono use the same ones.
 */
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { Access } from '../auth/access.js';
import { AddressLimit } from '../limits/address-limit.js';
import { RateLimiter } from '../limits/rate-limit.js';
import { corsPolicy, type CorsPolicy } from './cors.js';
import { queryCheck, type QueryCheck } from './request-guard.js';

export interface Guards {
  /** Undefined when no CORS origin is configured. */
  readonly cors: CorsPolicy | undefined;
  readonly query: QueryCheck;
  readonly access: Access;
  readonly addresses: AddressLimit;
  readonly publishRate: RateLimiter;
}

export function createGuards(config: Config, log: Logger): Guards {
  return {
    cors: corsPolicy(config),
    query: queryCheck(config),
    access: new Access(config, log),
    addresses: new AddressLimit(config.maxConnectionsPerAddress),
    publishRate: new RateLimiter(config.publishRate, config.publishBurst, config.rateLimitMaxKeys),
  };
}
