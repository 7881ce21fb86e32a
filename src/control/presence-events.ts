/**
 * `hub.join` / `hub.leave` (HUB_PRESENCE_EVENTS): when user U's first stream anywhere in the cluster
 * takes literal topic T, T's subscribers get `hub.join` {"user": U}; when U's last stream on T has
 * been gone for HUB_PRESENCE_LEAVE_GRACE_MS with none back, `hub.leave`. The events are published on
 * the bus like any event (ids, replay, resume), so every node sends the same ones.
 *
 * How the cluster agrees: each node counts its own streams per (user, topic) and broadcasts only
 * when its count turns 0→1 or 1→0; every node keeps which nodes hold each (user, topic) from those
 * messages, and from a snapshot each node sends when it hears of a new node. Every node runs the
 * same grace timers; one node, the leader (the lowest live node name, channel.ts), publishes.
 * A reconnect within the grace period, on any node, ends the timer before it fires: no event.
 * A node that dies is dropped from the table once it is no longer heard (3 heartbeats), which
 * starts the grace period for its users. Nothing here runs per event: only per stream open, close
 * and topic change, on topics the setting names.
 */
import type { Logger } from '../log.js';
import { HubEventType } from '../sse/frame.js';
import { patternCovers } from '../topics/coverage.js';
import { hasWildcard, type SubjectSpace } from '../topics/subject.js';
import type { ControlChannel } from './channel.js';

const TOPIC = 'presence';

/** One node's change, or its whole state (`snapshot`, replacing what was known of it). */
type PresenceMessage =
  | { readonly node: string; readonly user: string; readonly topic: string; readonly present: boolean }
  | { readonly node: string; readonly snapshot: ReadonlyArray<readonly [user: string, topic: string]> };

export interface PresenceEventsOptions {
  readonly channel: ControlChannel;
  readonly subjects: SubjectSpace;
  /** HUB_PRESENCE_EVENTS, prefix-relative. */
  readonly patterns: readonly string[];
  /** HUB_PRESENCE_LEAVE_GRACE_MS. */
  readonly graceMs: number;
  /** How often dead nodes are looked for (HUB_CONTROL_HEARTBEAT_MS). */
  readonly sweepMs: number;
  /** Publishes a hub event on a subject, through the bus. */
  readonly publish: (subject: string, data: Uint8Array, eventType: string) => Promise<unknown>;
  readonly log: Logger;
}

const keyOf = (user: string, topic: string): string => JSON.stringify([user, topic]);
const fromKey = (key: string): [user: string, topic: string] => JSON.parse(key) as [string, string];

export class PresenceEvents {
  /** This node's streams per (user, topic) key. */
  private readonly local = new Map<string, number>();
  /** Per key, the nodes that hold at least one such stream. */
  private readonly holders = new Map<string, Set<string>>();
  /** Keys whose user is present in the cluster (joined, leave not yet sent). */
  private readonly present = new Set<string>();
  private readonly leaving = new Map<string, NodeJS.Timeout>();
  private readonly sweep: NodeJS.Timeout;
  private readonly encoder = new TextEncoder();

  constructor(private readonly options: PresenceEventsOptions) {
    const { channel } = options;
    channel.listen(TOPIC, (message) => this.onMessage(message as PresenceMessage));
    channel.onPeer(() => this.sendSnapshot());
    this.sweep = setInterval(() => this.dropDeadNodes(), options.sweepMs);
    this.sweep.unref();
  }

  /** A stream of `user` now listens to `patterns` (bus subjects); only literal, named topics count. */
  added(user: string, patterns: readonly string[]): void {
    for (const topic of this.tracked(patterns)) {
      const key = keyOf(user, topic);
      const count = (this.local.get(key) ?? 0) + 1;
      this.local.set(key, count);
      if (count === 1) this.options.channel.broadcast(TOPIC, { node: this.node, user, topic, present: true } satisfies PresenceMessage);
    }
  }

  removed(user: string, patterns: readonly string[]): void {
    for (const topic of this.tracked(patterns)) {
      const key = keyOf(user, topic);
      const count = (this.local.get(key) ?? 0) - 1;
      if (count > 0) {
        this.local.set(key, count);
        continue;
      }
      this.local.delete(key);
      this.options.channel.broadcast(TOPIC, { node: this.node, user, topic, present: false } satisfies PresenceMessage);
    }
  }

  close(): void {
    clearInterval(this.sweep);
    for (const timer of this.leaving.values()) clearTimeout(timer);
  }

  private get node(): string {
    return this.options.channel.node;
  }

  private tracked(patterns: readonly string[]): string[] {
    const topics: string[] = [];
    for (const pattern of patterns) {
      const topic = this.options.subjects.toTopic(pattern);
      if (topic === undefined || hasWildcard(topic)) continue;
      if (this.options.patterns.some((named) => patternCovers(named, topic))) topics.push(topic);
    }
    return topics;
  }

  private sendSnapshot(): void {
    const snapshot = [...this.local.keys()].map(fromKey);
    this.options.channel.broadcast(TOPIC, { node: this.node, snapshot } satisfies PresenceMessage);
  }

  private onMessage(message: PresenceMessage): void {
    if ('snapshot' in message) {
      const held = new Set(message.snapshot.map(([user, topic]) => keyOf(user, topic)));
      for (const [key, nodes] of this.holders) if (nodes.has(message.node) && !held.has(key)) this.setHolder(key, message.node, false);
      for (const key of held) this.setHolder(key, message.node, true);
      return;
    }
    this.setHolder(keyOf(message.user, message.topic), message.node, message.present);
  }

  private dropDeadNodes(): void {
    const alive = this.options.channel.expectedNodes();
    if (!alive) return;
    for (const [key, nodes] of [...this.holders]) for (const node of [...nodes]) if (!alive.has(node)) this.setHolder(key, node, false);
  }

  private setHolder(key: string, node: string, holds: boolean): void {
    let nodes = this.holders.get(key);
    if (holds) {
      if (!nodes) this.holders.set(key, (nodes = new Set()));
      nodes.add(node);
      const timer = this.leaving.get(key);
      if (timer) {
        // Back within the grace period: neither a leave nor a join.
        clearTimeout(timer);
        this.leaving.delete(key);
      } else if (!this.present.has(key)) {
        this.present.add(key);
        this.emit(HubEventType.Join, key);
      }
      return;
    }
    if (!nodes?.delete(node) || nodes.size > 0) return;
    this.holders.delete(key);
    if (!this.present.has(key) || this.leaving.has(key)) return;
    const timer = setTimeout(() => {
      this.leaving.delete(key);
      if (this.holders.has(key)) return;
      this.present.delete(key);
      this.emit(HubEventType.Leave, key);
    }, this.options.graceMs);
    timer.unref();
    this.leaving.set(key, timer);
  }

  /** Only the leader publishes; every node keeps the same state, so another can take over. */
  private emit(type: string, key: string): void {
    if (!this.options.channel.isLeader()) return;
    const [user, topic] = fromKey(key);
    const data = this.encoder.encode(JSON.stringify({ user }));
    this.options.publish(this.options.subjects.toSubject(topic), data, type).catch((err: unknown) => {
      this.options.log.warn({ err, type, topic }, 'a presence event could not be published');
    });
  }
}
