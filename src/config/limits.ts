/** Settings that bound what one client may take: streams per address, publish rate, request size and time. */
import { HOUR_MS, int } from './parsers.js';
import { setting, type ValuesOf } from './setting.js';

export const limitRows = {
  // Off by default: behind an untrusted proxy every client shares the proxy's address.
  maxConnectionsPerAddress: setting({
    env: 'HUB_MAX_CONNECTIONS_PER_ADDRESS',
    live: true,
    default: 0,
    parse: int(0, 10_000_000),
    doc: 'open streams per client address; 0 = off',
  }),
  trustProxyHops: setting({
    env: 'HUB_TRUST_PROXY_HOPS',
    default: 0,
    parse: int(0, 16),
    doc: 'proxies whose `X-Forwarded-For` entries are trusted for the client address',
  }),
  publishRate: setting({ env: 'HUB_PUBLISH_RATE',
    live: true, default: 0, parse: int(0, 1_000_000), doc: 'publishes per second per token (or address); 0 = off' }),
  publishBurst: setting({ env: 'HUB_PUBLISH_BURST',
    live: true, default: 100, parse: int(1, 1_000_000), doc: 'publish burst allowed above the rate' }),
  rateLimitMaxKeys: setting({
    env: 'HUB_RATE_LIMIT_MAX_KEYS',
    live: true,
    default: 10_000,
    parse: int(1, 10_000_000),
    doc: 'rate-limit buckets kept (least recently used go first)',
  }),
  // Node's maxHeaderSize: the request line plus headers.
  maxHeaderBytes: setting({ env: 'HUB_MAX_HEADER_BYTES', default: 16 * 1024, parse: int(1024, 1024 * 1024), doc: 'largest request head' }),
  maxQueryBytes: setting({ env: 'HUB_MAX_QUERY_BYTES', default: 4096, parse: int(64, 1024 * 1024), doc: 'longest query string' }),
  // Slowloris: a client that trickles its headers holds a socket.
  headersTimeoutMs: setting({ env: 'HUB_HEADERS_TIMEOUT_MS', default: 10_000, parse: int(100, HOUR_MS), doc: "time to receive a request's headers" }),
  requestTimeoutMs: setting({
    env: 'HUB_REQUEST_TIMEOUT_MS',
    default: 30_000,
    parse: int(100, HOUR_MS),
    doc: 'time to receive a whole request (event streams are not cut by it)',
  }),
};

export type LimitConfig = ValuesOf<typeof limitRows>;
