/**
 * An incremental parser for one HTTP/1.1 event-stream response read off a raw socket: status line
 * and headers, then the body (chunked or not), cut into SSE blocks. It keeps two strings and a few
 * numbers per connection, so a load generator can hold ten thousand of them in one process.
 *
 * Both servers under test end lines with LF, so blocks are split on "\n\n" (a CRLF stream would
 * need the spec's full line handling, which this tool does not pay for). Bytes are read as latin1:
 * the payloads and ids this tool sends and gets back are ASCII.
 */

export interface SseBlock {
  readonly id: string | undefined;
  readonly event: string | undefined;
  readonly data: string | undefined;
  /** A comment-only block (`: hi`), as nchan sends on subscribe. */
  readonly comment: boolean;
}

const enum Stage {
  Headers,
  ChunkSize,
  ChunkData,
  ChunkEnd,
  Raw,
  Done,
}

export class SseResponseParser {
  private stage = Stage.Headers;
  private head = '';
  private chunkLeft = 0;
  private text = '';
  status = 0;

  constructor(
    private readonly onHeaders: (status: number) => void,
    private readonly onBlock: (block: SseBlock) => void,
  ) {}

  /** The first `length` bytes of `buf` arrived (the caller may reuse `buf` afterwards). */
  push(buf: Buffer, length = buf.length): void {
    let s = buf.toString('latin1', 0, length);
    if (this.stage === Stage.Headers) {
      this.head += s;
      const end = this.head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const headers = this.head.slice(0, end);
      s = this.head.slice(end + 4);
      this.head = '';
      this.status = Number(headers.slice(9, 12));
      this.stage = /^transfer-encoding:\s*chunked/im.test(headers) ? Stage.ChunkSize : Stage.Raw;
      this.onHeaders(this.status);
      if (this.status !== 200) {
        this.stage = Stage.Done;
        return;
      }
    }
    if (this.stage === Stage.Raw) return this.feed(s);
    this.dechunk(s);
  }

  private dechunk(s: string): void {
    let i = 0;
    while (i < s.length && this.stage !== Stage.Done) {
      if (this.stage === Stage.ChunkSize) {
        const eol = s.indexOf('\r\n', i);
        if (eol < 0) {
          this.head += s.slice(i);
          return;
        }
        const size = parseInt(this.head + s.slice(i, eol), 16);
        this.head = '';
        i = eol + 2;
        if (size === 0) this.stage = Stage.Done;
        else {
          this.chunkLeft = size;
          this.stage = Stage.ChunkData;
        }
      } else if (this.stage === Stage.ChunkData) {
        const take = Math.min(this.chunkLeft, s.length - i);
        this.feed(s.slice(i, i + take));
        i += take;
        this.chunkLeft -= take;
        if (this.chunkLeft === 0) {
          this.stage = Stage.ChunkEnd;
          this.chunkLeft = 2; // the CRLF after the chunk, possibly split across reads
        }
      } else {
        const take = Math.min(this.chunkLeft, s.length - i);
        i += take;
        this.chunkLeft -= take;
        if (this.chunkLeft === 0) this.stage = Stage.ChunkSize;
      }
    }
  }

  private feed(s: string): void {
    let text = this.text + s;
    let start = 0;
    for (;;) {
      const end = text.indexOf('\n\n', start);
      if (end < 0) break;
      this.block(text.slice(start, end));
      start = end + 2;
    }
    this.text = start === 0 ? text : text.slice(start);
    text = '';
  }

  private block(raw: string): void {
    let id: string | undefined;
    let event: string | undefined;
    let data: string | undefined;
    let comment = false;
    for (const line of raw.split('\n')) {
      if (line.startsWith(':')) comment = true;
      else if (line.startsWith('data:')) data = data === undefined ? value(line, 5) : `${data}\n${value(line, 5)}`;
      else if (line.startsWith('id:')) id = value(line, 3);
      else if (line.startsWith('event:')) event = value(line, 6);
    }
    this.onBlock({ id, event, data, comment: comment && data === undefined && id === undefined });
  }
}

function value(line: string, from: number): string {
  return line.charCodeAt(from) === 32 ? line.slice(from + 1) : line.slice(from);
}
