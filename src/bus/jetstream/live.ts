/**
 * The live feed: ONE ordered consumer over the whole stream, in stream order, dispatched locally to
 * the patterns this node's SSE streams asked for. One consumer keeps ids strictly increasing on every
 * stream (per-pattern consumers would interleave out of order), and the client library recreates an
 * ordered consumer after an outage from the last sequence it delivered: nothing lost, nothing repeated.
 */
import { DeliverPolicy, type ConsumerMessages, type JetStreamClient, type JsMsg } from 'nats';
import type { BusSubscription, MessageHandler } from '../bus.js';
import { LocalDispatch } from '../local-dispatch.js';
import { toBusMessage } from '../nats-message.js';
import type { JetStreamSettings } from '../../config.js';

export class LiveFeed {
  private delivered = 0;
  private messages: ConsumerMessages | undefined;
  private readonly local = new LocalDispatch();

  /** The stream sequence of the last message delivered (0 before start). */
  get head(): number {
    return this.delivered;
  }

  /** Reaches `onMessage` from the next message on. */
  add(pattern: string, onMessage: MessageHandler): BusSubscription {
    return this.local.add(pattern, onMessage);
  }

  /** Starts reading right after `afterSeq`, the stream's last sequence when this node joined. */
  async start(js: JetStreamClient, { stream, subjects, liveBatch }: Pick<JetStreamSettings, 'stream' | 'subjects' | 'liveBatch'>, afterSeq: number): Promise<void> {
    this.delivered = afterSeq;
    const consumer = await js.consumers.get(stream, {
      filterSubjects: subjects,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: afterSeq + 1,
    });
    // A bounded window of events in flight (HUB_JETSTREAM_LIVE_BATCH), refilled in large pulls.
    this.messages = await consumer.consume({ callback: (m) => this.dispatch(m), max_messages: liveBatch });
  }

  stop(): void {
    this.messages?.stop();
  }

  private dispatch(m: JsMsg): void {
    if (m.seq <= this.delivered) return; // replayed by a consumer reset: already delivered
    this.delivered = m.seq;
    this.local.dispatch(toBusMessage(m, m.seq));
  }
}
