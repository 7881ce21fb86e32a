/** Settings of what a node keeps to resume streams exactly: the replay buffer, and lingering bus subscriptions. */
import { HOUR_MS, int } from './parsers.js';
import { setting, type ValuesOf } from './setting.js';

export const replayRows = {
  replayMaxEvents: setting({ env: 'HUB_REPLAY_MAX_EVENTS', default: 10_000, parse: int(0, 100_000_000), doc: 'replay buffer bound: events' }),
  replayMaxBytes: setting({
    env: 'HUB_REPLAY_MAX_BYTES',
    default: 64 * 1024 * 1024,
    parse: int(0, 64 * 1024 * 1024 * 1024),
    doc: 'replay buffer bound: bytes of encoded frames',
  }),
  replayMaxAgeMs: setting({ env: 'HUB_REPLAY_MAX_AGE_MS', default: 10 * 60_000, parse: int(0, 30 * 24 * HOUR_MS), doc: 'replay buffer bound: age' }),
  rewindMax: setting({
    env: 'HUB_REWIND_MAX',
    default: 100,
    parse: int(0, 10_000),
    doc: 'most events a stream may ask for with `rewind=N` (the backlog before live events); 0 turns rewind off',
  }),
  interestLingerMs: setting({
    env: 'HUB_INTEREST_LINGER_MS',
    default: 60_000,
    parse: int(0, 24 * HOUR_MS),
    doc: 'how long a bus subscription outlives its last subscriber, so a quick reconnect resumes exactly',
  }),
  maxLingeringSubscriptions: setting({
    env: 'HUB_MAX_LINGERING_SUBSCRIPTIONS',
    default: 10_000,
    parse: int(0, 10_000_000),
    doc: 'most subscriber-less subscriptions kept lingering; the oldest go first',
  }),
};

export type ReplayConfig = ValuesOf<typeof replayRows>;
