/** POST /publish reads its body straight from Node's request: bounds hold for chunked bodies too. */
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { startTestHub } from '../helpers/hub.js';
import { withTimeout } from '../helpers/wait.js';

/** POST with Transfer-Encoding: chunked (no Content-Length), the body in the given pieces. */
function postChunked(url: string, pieces: readonly string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    for (const piece of pieces) req.write(piece);
    req.end();
  });
}

describe('publish body [memory]', () => {
  it('takes a chunked body up to the limit and refuses a longer one with 413', async () => {
    await using hub = await startTestHub({ HUB_MAX_EVENT_BYTES: '1024' });
    const url = `${hub.url}/publish?topic=orders.1`;
    const ok = await withTimeout('a chunked publish', postChunked(url, ['x'.repeat(512), 'y'.repeat(512)]));
    expect(ok.status).toBe(200);
    const tooLong = await withTimeout('a chunked publish over the limit', postChunked(url, ['x'.repeat(1000), 'y'.repeat(100)]));
    expect(tooLong.status).toBe(413);
    expect(JSON.parse(tooLong.body)).toMatchObject({ code: 'payload_too_large' });
    const empty = await withTimeout('an empty publish', postChunked(url, []));
    expect(empty.status).toBe(200);
  });
});
