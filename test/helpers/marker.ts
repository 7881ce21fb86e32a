/**
 * "Nothing else arrived", shown by something positive instead of a sleep: a marker event published
 * after everything else on a topic the streams follow. A stream delivers in bus order, so once the
 * marker is in, every event published before it that was going to arrive has arrived.
 */
import { publish } from './hub.js';
import type { Subscriber } from './sse-client.js';
import { waitFor } from './wait.js';

let markers = 0;

/** Publishes a marker on `topic` through the hub at `hubUrl`, waits until every one of `subs` has it, and answers its payload. */
export async function passMarker(hubUrl: string, topic: string, subs: readonly Subscriber[], timeoutMs = 10_000): Promise<string> {
  const data = `marker-${++markers}`;
  const answer = await publish(hubUrl, topic, data);
  if (answer.status >= 300) throw new Error(`publishing the marker answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  for (const sub of subs) await waitFor(`the marker ${data} on ${topic}`, () => sub.messages.some((e) => e.data === data), timeoutMs);
  return data;
}
