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
    // Every copy of a repeated header counts, as in the web Headers object Hono reads (Node's
    // req.headers keeps only the first Authorization, say); Headers joins repeated Cookie headers
    // with "; ", every other with ", ". Read from rawHeaders: req.headers and req.headersDistinct
    // would build an object that then lives as long as the stream.
    const raw = this.incoming.rawHeaders;
    let value: string | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      const key = raw[i]!;
      if (key.length !== name.length || key.toLowerCase() !== name) continue;
      value = value === undefined ? raw[i + 1]! : `${value}${name === 'cookie' ? '; ' : ', '}${raw[i + 1]!}`;
    }
    return value;
  }

  query(name: string): string | undefined {
    return getQueryParam(this.url, name) as string | undefined;
  }

  queries(name: string): string[] | undefined {
    return getQueryParams(this.url, name) as string[] | undefined;
  }
}
