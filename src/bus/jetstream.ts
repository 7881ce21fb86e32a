/**
 * JetStream bus: every event lives in one stream over `<prefix>.>`, and its stream sequence is its id,
 * so every replica gives the same event the same id and a client can resume on any of them.
 *
 * Each node reads the stream with ONE ordered consumer, in stream order, and dispatches locally to
 * the patterns its streams asked for. One consumer keeps ids strictly increasing on every stream
 * (per-pattern consumers would interleave out of order), and the ordered consumer resumes after an
 * outage from the last sequence it delivered: nothing lost, nothing repeated.
 * History older than the replay buffer is read back from the stream, one filtered consumer per pattern.
 */
import { createHash } from 'node:crypto';
import {
  DeliverPolicy,
  DiscardPolicy,
  nanos,
  RetentionPolicy,
  StorageType,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
  type StreamConfig,
} from 'nats';
import type { Logger } from '../log.js';
import { EVENT_TYPE_HEADER, type Bus, type BusMessage, type BusStatus, type BusSubscription, type HistoryResult, type MessageHandler, type PublishOptions, type PublishResult } from './bus.js';
import { natsHeaders } from './nats.js';
import { closeNats, connectNats, watchNats } from './nats-connection.js';
import { LocalDispatch } from './local-dispatch.js';
import { BusStatusReporter } from './status.js';

export interface JetStreamSettings {
  readonly stream: string;
  /** `<prefix>.>`: the subjects the stream holds. */
  readonly subjects: string;
  readonly maxMsgs: number;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
  readonly replicas: number;
  readonly storage: 'file' | 'memory';
  readonly duplicateWindowMs: number;
  /** How long a publish waits for JetStream's acknowledgement before it counts as failed. */
  readonly publishTimeoutMs: number;
}

export interface JetStreamBusOptions {
  readonly servers: readonly string[];
  readonly settings: JetStreamSettings;
  readonly log: Logger;
}

// Bounds one history read: messages per fetch, and how long a fetch may wait for more.
const HISTORY_BATCH = 256;
const HISTORY_FETCH_MS = 2000;
// Longest pause between attempts to set the stream up.
const SETUP_RETRY_MAX_MS = 10_000;

export class JetStreamBus implements Bus {
  readonly kind = 'jetstream';
  readonly coverageSurvivesDisconnect = true;
  readonly clusterWideIds = true;
  private epochValue = '';
  private seq = 0;
  private closing = false;
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private live: ConsumerMessages | undefined;
  private readonly local = new LocalDispatch();
  private readonly status: BusStatusReporter;
  /** Resolves once the stream exists and the live consumer runs (retries until NATS is there). */
  private readonly ready: Promise<void>;

  constructor(private readonly options: JetStreamBusOptions) {
    this.status = new BusStatusReporter(options.log);
    this.ready = this.start();
    this.ready.catch((err: unknown) => options.log.error({ err }, 'jetstream setup failed'));
  }

  get epoch(): string {
    return this.epochValue;
  }

  async subscribe(pattern: string, onMessage: MessageHandler): Promise<{ subscription: BusSubscription; since: number }> {
    await this.ready;
    const subscription = this.local.add(pattern, onMessage);
    // Local dispatch reaches it from the next message on; anything earlier is read back by history().
    return { subscription, since: this.seq };
  }

  async publish(subject: string, data: Uint8Array, options: PublishOptions = {}): Promise<PublishResult> {
    if (!this.status.connected || !this.js) throw new Error('NATS is not connected');
    const h = natsHeaders(options);
    const ack = await this.js.publish(subject, data, { headers: h, msgID: options.msgId, timeout: this.options.settings.publishTimeoutMs });
    return { seq: ack.seq };
  }

  async history(afterSeq: number, upToSeq: number, patterns: readonly string[], limit: number): Promise<HistoryResult> {
    await this.ready;
    const jsm = await this.manager();
    const { state } = await jsm.streams.info(this.options.settings.stream);
    // The stream no longer holds what came right after the id; what was lost cannot be known.
    if (state.messages === 0 ? state.last_seq > afterSeq : state.first_seq > afterSeq + 1) return { complete: false, reason: 'history-gone' };
    const found = new Map<number, BusMessage>();
    for (const pattern of patterns) {
      const consumer = await this.js!.consumers.get(this.options.settings.stream, {
        filterSubjects: pattern,
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: afterSeq + 1,
      });
      try {
        // Ask for exactly what is pending: a fetch for more than there is would wait out its expiry.
        let pending = (await consumer.info()).num_pending;
        read: while (pending > 0) {
          const batch = await consumer.fetch({ max_messages: Math.min(HISTORY_BATCH, pending), expires: HISTORY_FETCH_MS });
          let got = 0;
          for await (const m of batch) {
            got++;
            if (m.seq > upToSeq) break read;
            found.set(m.seq, this.toMessage(m));
            if (found.size > limit) return { complete: false, reason: 'too-far-behind' };
            pending = m.info.pending;
          }
          if (got === 0) break;
        }
      } finally {
        // Ephemeral consumers would linger on the server until their inactivity threshold: a storm
        // of resumes must not pile them up.
        await consumer.delete().catch(() => {});
      }
    }
    return { complete: true, messages: [...found.values()].sort((a, b) => a.seq - b.seq) };
  }

  head(): number {
    return this.seq;
  }

  isConnected(): boolean {
    return this.status.connected;
  }

  onStatus(listener: (status: BusStatus) => void): void {
    this.status.onStatus(listener);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.live?.stop();
    await closeNats(this.nc);
    this.status.set(false, 'closed');
  }

  private async start(): Promise<void> {
    const nc = await connectNats(this.options.servers, 'ssehub-jetstream');
    this.nc = nc;
    if (this.closing) return void nc.close();
    // JetStream may answer later than NATS does (a restarting cluster electing stream leaders):
    // keep trying rather than stay unready until someone restarts the pod.
    let info: Awaited<ReturnType<JetStreamBus['ensureStream']>>;
    for (let attempt = 1; ; attempt++) {
      try {
        info = await this.ensureStream(await this.manager());
        break;
      } catch (err) {
        if (this.closing) throw err;
        this.options.log.error({ err, attempt }, 'jetstream stream setup failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.min(SETUP_RETRY_MAX_MS, 250 * 2 ** attempt)));
      }
    }
    // Same stream, same epoch on every node; a stream deleted and made again is a new epoch.
    this.epochValue = createHash('sha256').update(`${info.config.name}@${info.created}`).digest('hex').slice(0, 8);
    this.seq = info.state.last_seq;
    this.js = nc.jetstream();
    const consumer = await this.js.consumers.get(this.options.settings.stream, {
      filterSubjects: this.options.settings.subjects,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: info.state.last_seq + 1,
    });
    this.live = await consumer.consume({ callback: (m) => this.dispatch(m) });
    void watchNats(
      nc,
      {
        disconnected: (reason) => this.status.set(false, reason),
        // The ordered consumer picks up after the last sequence it delivered: nothing was lost.
        reconnected: (reason) => this.status.set(true, reason),
      },
      this.options.log,
      () => this.closing,
    );
    this.status.set(true, `stream ${info.config.name} at seq ${info.state.last_seq}`);
  }

  private async ensureStream(jsm: JetStreamManager) {
    const s = this.options.settings;
    const wanted: Partial<StreamConfig> = {
      name: s.stream,
      subjects: [s.subjects],
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      storage: s.storage === 'file' ? StorageType.File : StorageType.Memory,
      num_replicas: s.replicas,
      max_msgs: s.maxMsgs,
      max_bytes: s.maxBytes,
      max_age: nanos(s.maxAgeMs),
      duplicate_window: nanos(s.duplicateWindowMs),
    };
    try {
      const existing = await jsm.streams.info(s.stream);
      const subjects = existing.config.subjects.includes(s.subjects) ? existing.config.subjects : [...existing.config.subjects, s.subjects];
      // Storage and replicas of an existing stream are left as they are (changing them needs a migration).
      const { storage: _storage, num_replicas: _replicas, name: _name, ...limits } = wanted;
      return await jsm.streams.update(s.stream, { ...existing.config, ...limits, subjects });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      this.options.log.info({ stream: s.stream }, 'creating the JetStream stream');
      return jsm.streams.add(wanted);
    }
  }

  private dispatch(m: JsMsg): void {
    if (m.seq <= this.seq) return; // replayed by a consumer reset: already delivered
    this.seq = m.seq;
    this.local.dispatch(this.toMessage(m));
  }

  private toMessage(m: JsMsg): BusMessage {
    return { subject: m.subject, data: m.data, eventType: m.headers?.get(EVENT_TYPE_HEADER) || undefined, seq: m.seq };
  }

  private manager(): Promise<JetStreamManager> {
    if (!this.nc) throw new Error('NATS is not connected');
    return this.nc.jetstreamManager();
  }
}

function isNotFound(err: unknown): boolean {
  return err instanceof Error && /stream not found/i.test(err.message);
}
