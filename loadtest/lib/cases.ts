/** The benchmark cases (issue 7), each bounded to well under a minute on a 2-core machine. */

export type PublishSchedule =
  | { readonly kind: 'burst'; readonly perTopic: number }
  | { readonly kind: 'rate'; readonly perSecond: number; readonly seconds: number }
  | { readonly kind: 'none' };

export interface CaseSpec {
  readonly id: string;
  readonly title: string;
  readonly subscribers: number;
  readonly topics: number;
  readonly publish: PublishSchedule;
  /** Reconnect storm: every client drops and resumes with Last-Event-ID this far into publishing. */
  readonly stormAtSeconds?: number;
  /** At least this many subscriber processes (more when the connections need them). */
  readonly subscriberProcesses: number;
  /**
   * Publish over HTTP on this many keep-alive connections with this many requests in flight on each,
   * whatever the target's own publisher is (a NATS target's events then go through the hub too).
   */
  readonly httpPublish?: { readonly sockets: number; readonly window: number };
}

// The publish path (issue 12): the cost is the hub's per-request work, so one subscriber, one event
// per POST, and a window of one per connection, as a backend with 16 workers publishing would.
const PUBLISH_PATH: CaseSpec = {
  id: 'p',
  title: 'publish path: 1 subscriber, 20,000 events/s offered for 3 s, one event per POST, 16 keep-alive connections, 1 request in flight each',
  subscribers: 1,
  topics: 1,
  publish: { kind: 'rate', perSecond: 20_000, seconds: 3 },
  subscriberProcesses: 1,
  httpPublish: { sockets: 16, window: 1 },
};

export const CASES: Readonly<Record<string, CaseSpec>> = {
  a: { id: 'a', title: '1,000 subscribers, 1 topic, 2,000 events as fast as possible', subscribers: 1000, topics: 1, publish: { kind: 'burst', perTopic: 2000 }, subscriberProcesses: 2 },
  b: { id: 'b', title: '10,000 subscribers, 100 topics, 1,000 events/s for 10 s', subscribers: 10_000, topics: 100, publish: { kind: 'rate', perSecond: 1000, seconds: 10 }, subscriberProcesses: 2 },
  c: { id: 'c', title: '100 subscribers, 1 topic, 20,000 events/s offered for 2 s', subscribers: 100, topics: 1, publish: { kind: 'rate', perSecond: 20_000, seconds: 2 }, subscriberProcesses: 2 },
  // 19,500 rather than 20,000: one server process cannot hold 20,000 sockets under the machine's
  // 20,000-fd limit (it needs a few fds of its own), and every target gets the same count.
  d: { id: 'd', title: '19,500 idle connections: memory per connection', subscribers: 19_500, topics: 100, publish: { kind: 'none' }, subscriberProcesses: 2 },
  e: {
    id: 'e',
    title: 'reconnect storm: 10,000 clients over 100 topics drop at 3 s and resume with Last-Event-ID while 1,000 events/s go on for 10 s',
    subscribers: 10_000,
    topics: 100,
    publish: { kind: 'rate', perSecond: 1000, seconds: 10 },
    stormAtSeconds: 3,
    subscriberProcesses: 2,
  },
  p: PUBLISH_PATH,
  /** The same with pipelining: 8 requests in flight per connection. */
  pp: { ...PUBLISH_PATH, id: 'pp', title: 'publish path, pipelined: as p, 8 requests in flight per connection', httpPublish: { sockets: 16, window: 8 } },
  /** The CI smoke case: small, a few seconds, storm included, checked for correctness only. */
  smoke: {
    id: 'smoke',
    // Publishing goes on 2 s after the storm, so a slow CI machine still sees every client back live.
    title: 'smoke: 300 subscribers over 10 topics, 500 events/s for 3 s, all drop and resume at 1 s',
    subscribers: 300,
    topics: 10,
    publish: { kind: 'rate', perSecond: 500, seconds: 3 },
    stormAtSeconds: 1,
    subscriberProcesses: 2,
  },
};
