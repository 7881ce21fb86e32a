/** Plain HTTP requests from a test, each with a deadline so a hub that stops answering fails fast. */

/** Default deadline of a test's request to a hub on this machine. */
export const REQUEST_TIMEOUT_MS = 5000;

/** GET `url` with these headers; rejects if no answer came within `timeoutMs` (default 5000). */
export function get(url: string, headers: Record<string, string> = {}, timeoutMs = REQUEST_TIMEOUT_MS): Promise<Response> {
  return fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
}
