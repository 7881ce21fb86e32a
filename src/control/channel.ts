/**
 * The control channel: nodes ask each other to act on the streams they hold, over the bus's
 * ControlTransport (NATS request/reply; within the process on the embedded bus).
 *
 * Subjects, under the hub's subject prefix so two hubs on one NATS server do not hear each other:
 *   `_ssehub.<prefix>.node.<node>`  one node's requests (a stream's id names its node);
 *   `_ssehub.<prefix>.all`          requests to every node, each answering once;
 *   `_ssehub.<prefix>.beat`         heartbeats, which tell a gather whom to wait for (peers.ts);
 *   `_ssehub.<prefix>.<topic>`      one-way messages of a feature (`presence`: presence-events.ts).
 * They lie outside `<prefix>.>`, so no event subscription and no JetStream stream takes them.
 */
import type { ControlTransport } from '../bus/bus.js';
import { ErrorCode, HubError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Beat, ControlAnswer, ControlRequest } from './messages.js';
import { Peers } from './peers.js';

export interface ControlChannelOptions {
  /** This node's name (Hub.node). */
  readonly node: string;
  /** HUB_SUBJECT_PREFIX. */
  readonly prefix: string;
  /** HUB_CONTROL_TIMEOUT_MS. */
  readonly timeoutMs: number;
  /** HUB_CONTROL_HEARTBEAT_MS. */
  readonly heartbeatMs: number;
}

/** What a node does with a request: an answer body, or the refusal. */
export type ControlHandler = (request: ControlRequest) => Promise<unknown>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const encode = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value));

export class ControlChannel {
  private readonly peers: Peers;
  private readonly subjects: { readonly node: (node: string) => string; readonly all: string; readonly beat: string; readonly base: string };
  private readonly peerListeners: Array<(node: string) => void> = [];
  private heartbeat: NodeJS.Timeout | undefined = undefined;
  private handler: ControlHandler | undefined = undefined;

  constructor(
    private readonly transport: ControlTransport,
    private readonly options: ControlChannelOptions,
    private readonly log: Logger,
  ) {
    const base = `_ssehub.${options.prefix}`;
    this.subjects = { node: (node) => `${base}.node.${node}`, all: `${base}.all`, beat: `${base}.beat`, base };
    this.peers = new Peers(options.node, options.heartbeatMs);
  }

  get node(): string {
    return this.options.node;
  }

  /** Answer this node's requests and every-node requests with `handler`, and start beating. */
  serve(handler: ControlHandler): void {
    this.handler = handler;
    const answer = async (data: Uint8Array): Promise<Uint8Array> => encode(await this.answer(JSON.parse(decoder.decode(data)) as ControlRequest));
    this.transport.serve(this.subjects.node(this.node), answer);
    this.transport.serve(this.subjects.all, answer);
    this.transport.serve(this.subjects.beat, async (data) => {
        const { node } = JSON.parse(decoder.decode(data)) as Beat;
        // A node just heard of (it has just started) learns of this one now, not a heartbeat later.
        if (this.peers.heard(node)) {
          this.beat();
          for (const listener of this.peerListeners) listener(node);
        }
      return new Uint8Array(0);
    });
    this.beat();
    this.heartbeat = setInterval(() => this.beat(), this.options.heartbeatMs);
    this.heartbeat.unref();
  }

  /** The answer of `node`, or a 404 `stream_not_found` when it does not answer within the timeout. */
  async ask(node: string, request: ControlRequest): Promise<unknown> {
    if (node === this.node) return this.unwrap(await this.answer(request));
    const data = await this.transport.request(this.subjects.node(node), encode(request), this.options.timeoutMs).catch((err: unknown) => {
      throw new HubError(ErrorCode.BusUnavailable, 'the bus could not carry the request to the node that holds the stream; retry later', { cause: err });
    });
    // Nobody serves that node's subject (it is gone, and its streams with it), or it did not answer in time.
    if (data === undefined) return new HubError(ErrorCode.StreamNotFound, `no node answered for stream node ${node} within ${this.options.timeoutMs} ms`);
    return this.unwrap(JSON.parse(decoder.decode(data)) as ControlAnswer);
  }

  /**
   * Every node's answer, one per node, this one's included: collected until every node heard from
   * lately has answered, or HUB_CONTROL_TIMEOUT_MS has passed.
   */
  async askAll(request: ControlRequest): Promise<ControlAnswer[]> {
    const byNode = new Map<string, ControlAnswer>();
    const take = (data: Uint8Array): void => {
      const answer = JSON.parse(decoder.decode(data)) as ControlAnswer;
      if (!byNode.has(answer.node)) byNode.set(answer.node, answer);
    };
    let read = 0;
    const enough = (answers: readonly Uint8Array[]): boolean => {
      for (; read < answers.length; read++) take(answers[read]!);
      const expected = this.peers.expected();
      if (expected === undefined) return false;
      for (const node of expected) if (!byNode.has(node)) return false;
      return true;
    };
    const answers = await this.transport.gather(this.subjects.all, encode(request), this.options.timeoutMs, enough).catch((err: unknown) => {
      throw new HubError(ErrorCode.BusUnavailable, 'the bus could not carry the request to the other nodes; retry later', { cause: err });
    });
    for (; read < answers.length; read++) take(answers[read]!);
    return [...byNode.values()];
  }

  /** The nodes alive as far as this one knows, itself included; undefined in its first heartbeat interval. */
  expectedNodes(): ReadonlySet<string> | undefined {
    return this.peers.expected();
  }

  /**
   * True when this node is the one that acts for the cluster (the lowest name among the live nodes);
   * never in its first heartbeat interval, while it may not know every node yet.
   */
  isLeader(): boolean {
    const nodes = this.peers.expected();
    if (!nodes) return false;
    for (const node of nodes) if (node < this.node) return false;
    return true;
  }

  /** Calls `listener` with each node heard from for the first time (or again after it was given up). */
  onPeer(listener: (node: string) => void): void {
    this.peerListeners.push(listener);
  }

  /** One-way messages on `_ssehub.<prefix>.<topic>`, from every node (this one included). */
  listen(topic: string, handler: (message: unknown) => void): void {
    this.transport.serve(`${this.subjects.base}.${topic}`, async (data) => {
      handler(JSON.parse(decoder.decode(data)));
      return new Uint8Array(0);
    });
  }

  broadcast(topic: string, message: unknown): void {
    this.transport.announce(`${this.subjects.base}.${topic}`, encode(message));
  }

  /** Stop beating; the subscriptions end with the bus's connection. */
  close(): void {
    clearInterval(this.heartbeat);
  }

  private beat(): void {
    this.transport.announce(this.subjects.beat, encode({ node: this.node } satisfies Beat));
  }

  private async answer(request: ControlRequest): Promise<ControlAnswer> {
    const node = this.node;
    try {
      const result = await this.handler!(request);
      if (result instanceof HubError) return { node, ok: false, code: result.code, message: result.message };
      return { node, ok: true, body: result };
    } catch (err) {
      this.log.error({ err, op: request.op }, 'control request failed');
      return { node, ok: false, code: ErrorCode.Internal, message: 'internal error' };
    }
  }

  private unwrap(answer: ControlAnswer): unknown {
    return answer.ok ? answer.body : new HubError(answer.code, answer.message);
  }
}
