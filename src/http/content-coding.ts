/**
 * Content codings for the files the hub serves from memory: each body is compressed once, at start,
 * at the highest level (a few milliseconds for files this size, paid once, not per request), and a
 * request gets the smallest coding its Accept-Encoding allows.
 *
 * scripts/client-size.mjs reports the client library's size through `compressAll`, so the figure in
 * docs/client.md is what the hub sends.
 */
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

/** The codings offered, best first: Brotli is smaller than gzip on text; every browser sends both. */
export const CONTENT_CODINGS = ['br', 'gzip'] as const;
export type ContentCoding = (typeof CONTENT_CODINGS)[number];

const COMPRESS: Readonly<Record<ContentCoding, (body: Uint8Array) => Buffer>> = {
  br: (body) =>
    brotliCompressSync(body, {
      params: {
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: body.byteLength,
      },
    }),
  gzip: (body) => gzipSync(body, { level: constants.Z_BEST_COMPRESSION }),
};

/** `body` in every offered coding, best first. */
export function compressAll(body: Uint8Array): { coding: ContentCoding; body: Buffer }[] {
  return CONTENT_CODINGS.map((coding) => ({ coding, body: COMPRESS[coding](body) }));
}

/**
 * Whether an Accept-Encoding header allows `coding` (RFC 9110 §12.5.3): named with a q-value above 0,
 * or not named while `*` is. No header means no preference: the hub then sends the file as it is.
 */
export function accepts(acceptEncoding: string | undefined, coding: ContentCoding): boolean {
  if (!acceptEncoding) return false;
  let wildcard = false;
  for (const item of acceptEncoding.split(',')) {
    const [name = '', ...params] = item.split(';').map((part) => part.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    const allowed = q === undefined || Number(q.slice(2)) > 0;
    if (name === coding) return allowed;
    if (name === '*') wildcard = allowed;
  }
  return wildcard;
}
