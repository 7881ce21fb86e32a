/**
 * Heap snapshots of this process through node:inspector, written to the response chunk by chunk as
 * V8 serializes them (HeapProfiler.addHeapSnapshotChunk), never joined into one string. V8 writes a
 * snapshot with the JavaScript thread paused, so the chunks wait in the socket's buffer until it
 * resumes: the process briefly holds about one snapshot's size more, and every stream stalls for
 * the duration (seconds for a large heap). That is why it is one at a time and on the admin port only.
 */
import { Session } from 'node:inspector';
import type { HeapProfiler } from 'node:inspector';
import type { Writable } from 'node:stream';
import { ErrorCode, HubError } from '../errors.js';

export class HeapSnapshotter {
  private running = false;

  /**
   * Write a snapshot to `out`, after `begin` (which sends the response head); resolves once V8 has
   * written its last chunk. When one is already running, throws HubError(snapshot_in_progress)
   * before `begin`, so nothing has been written.
   */
  async writeTo(out: Writable, begin: () => void): Promise<void> {
    if (this.running) throw new HubError(ErrorCode.SnapshotInProgress, 'a heap snapshot is already being written; try again when it ends');
    this.running = true;
    const session = new Session();
    const onChunk = ({ params }: { params: HeapProfiler.AddHeapSnapshotChunkEventDataType }): void => void out.write(params.chunk);
    try {
      begin();
      session.connect();
      session.on('HeapProfiler.addHeapSnapshotChunk', onChunk);
      await new Promise<void>((resolve, reject) => session.post('HeapProfiler.takeHeapSnapshot', { reportProgress: false }, (err) => (err ? reject(err) : resolve())));
    } finally {
      session.off('HeapProfiler.addHeapSnapshotChunk', onChunk);
      session.disconnect();
      this.running = false;
    }
  }
}
