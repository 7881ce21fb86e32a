/**
 * Node's request read the way Hono's request reads it, for event streams, which are served without
 * Hono (src/http/edge.ts): the same header joining, the same query decoding (Hono's own parser),
 * without a web Request, Headers or URL object per stream.
 */
import type { IncomingMessage } from 'node:http';
import { getQueryParam, getQueryParams } from 'hono/utils/url';
import type { RequestFields } from '../auth/credentials.js';

// Hono's query parser takes an absolute URL (it looks for "?" after the scheme); any origin will do.
const ORIGIN = 'http://hub';

export class NodeRequestFields implements RequestFields {
  private readonly url: string;

  constructor(readonly incoming: IncomingMessage) {
    this.url = ORIGIN + (incoming.url ?? '/');
  }

  header(name: string): string | undefined {
    // headersDistinct keeps every copy of a repeated header, as the web Headers object Hono reads
    // does (Node's req.headers would keep only the first Authorization, say).
    return this.incoming.headersDistinct[name]?.join(', ');
  }

  query(name: string): string | undefined {
    return getQueryParam(this.url, name) as string | undefined;
  }

  queries(name: string): string[] | undefined {
    return getQueryParams(this.url, name) as string[] | undefined;
  }
}
