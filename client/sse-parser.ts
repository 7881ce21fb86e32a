/**
 * An incremental event-stream parser (WHATWG HTML, "Interpreting an event stream"), for the fetch
 * reader that the shared connection and token headers need: text goes in as it arrives, in any
 * split; whole events come out. It also reads the hub's `topic:` field (`fields=topic`), which a
 * browser's EventSource ignores.
 */

/** One dispatched event. `id` is the last event id in force (the spec's, carried across events). */
export interface SseEvent {
  readonly type: string;
  readonly data: string;
  readonly id: string;
  /** The `topic:` field ('' when the stream was not opened with `fields=topic`). */
  readonly topic: string;
}

/** Returns the function to feed text to; `onEvent` gets each event, `onRetry` each `retry:` value. */
export function sseParser(onEvent: (event: SseEvent) => void, onRetry: (ms: number) => void): (text: string) => void {
  let pending = '';
  let id = '';
  let type = '';
  let data: string | undefined;
  let topic = '';

  const line = (text: string): void => {
    if (text === '') {
      if (data !== undefined) onEvent({ type: type || 'message', data, id, topic });
      type = topic = '';
      data = undefined;
      return;
    }
    const colon = text.indexOf(':');
    if (colon === 0) return; // a comment (the hub's heartbeat)
    const name = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (name === 'data') data = data === undefined ? value : `${data}\n${value}`;
    else if (name === 'event') type = value;
    else if (name === 'topic') topic = value;
    else if (name === 'id') id = value.includes('\0') ? id : value;
    else if (name === 'retry' && /^\d+$/.test(value)) onRetry(Number(value));
  };

  return (text) => {
    pending += text;
    let start = 0;
    for (let i = 0; i < pending.length; i++) {
      const c = pending[i];
      if (c !== '\n' && c !== '\r') continue;
      // A CR at the end of what came so far may be the first half of a CRLF: wait for the next text.
      if (c === '\r' && i === pending.length - 1) break;
      line(pending.slice(start, i));
      if (c === '\r' && pending[i + 1] === '\n') i++;
      start = i + 1;
    }
    pending = pending.slice(start);
  };
}
