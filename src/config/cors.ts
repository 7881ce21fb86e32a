/** Settings of CORS: which browser origins may call the hub, and whether they may send cookies. */
import { ConfigError } from '../errors.js';
import { bool, list, NONE } from './parsers.js';
import { readRows, setting, type Env, type ValuesOf } from './setting.js';

const ORIGIN = /^https?:\/\/[^/\s]+$/;

export const corsRows = {
  corsOrigins: setting({
    env: 'HUB_CORS_ORIGINS',
    live: true,
    default: NONE,
    parse: list((origins, variable) => {
      for (const origin of origins) {
        if (origin === '*') {
          if (origins.length > 1) throw new ConfigError(variable, '"*" must stand alone');
        } else if (!ORIGIN.test(origin)) {
          throw new ConfigError(variable, `"${origin}" is not an origin (scheme://host[:port], no path)`);
        }
      }
    }),
    doc: 'exact browser origins allowed (`*` only without credentials)',
  }),
  corsCredentials: setting({ env: 'HUB_CORS_CREDENTIALS',
    live: true, default: true, parse: bool, doc: 'allow credentials (cookies) cross-origin' }),
};

export type CorsConfig = ValuesOf<typeof corsRows>;

export function loadCors(env: Env): CorsConfig {
  const cors = readRows(env, corsRows);
  // Browsers refuse credentialed answers that allow any origin.
  if (cors.corsCredentials && cors.corsOrigins.includes('*')) {
    throw new ConfigError(
      corsRows.corsOrigins.env,
      `"*" cannot be used with credentials: set ${corsRows.corsCredentials.env}=false or list exact origins`,
    );
  }
  return cors;
}
