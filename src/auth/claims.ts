/**
 * The token claim that carries topic rights:
 *
 *   { "sub": "user-42", "exp": 1767225600,
 *     "ssehub": { "subscribe": ["user.42.>", "news.*"], "publish": ["chat.room.7"],
 *                 "manage": ["rooms.>"], "presence": ["rooms.>"] } }
 *
 * One namespaced claim (like Mercure's `mercure` claim) so it cannot clash with registered claims
 * or with other applications' claims in a shared token; one list per action, of NATS topic
 * patterns relative to the hub's subject prefix. A missing list grants nothing. `manage` is for
 * backends: it changes the topics of other users' open streams (POST /users/<sub>/topics);
 * `presence` reads who listens to a topic (GET /presence).
 */
import { checkTopic } from '../topics/subject.js';

export const CLAIM = 'ssehub';

export const Action = { Subscribe: 'subscribe', Publish: 'publish', Manage: 'manage', Presence: 'presence' } as const;
export type Action = (typeof Action)[keyof typeof Action];

export type TopicGrants = Readonly<Record<Action, readonly string[]>>;

const NO_GRANTS: TopicGrants = Object.freeze({ subscribe: [], publish: [], manage: [], presence: [] });

/** The grants in a verified payload, or a sentence saying what is wrong with the claim. */
export function readGrants(payload: Readonly<Record<string, unknown>>, maxTopicLength: number): TopicGrants | string {
  const claim = payload[CLAIM];
  if (claim === undefined) return NO_GRANTS;
  return readTopicLists(claim, (field) => `claim "${field === undefined ? CLAIM : `${CLAIM}.${field}`}"`, maxTopicLength);
}

/**
 * The lists of `value` (an object with optional `subscribe`, `publish`, `manage` and `presence` arrays of patterns),
 * or a sentence naming what is wrong; `named` names the object, or one of its fields, in that
 * sentence. The auth hook's answers carry the same lists.
 */
export function readTopicLists(value: unknown, named: (field?: Action) => string, maxTopicLength: number): TopicGrants | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${named()} must be an object`;
  const grants: Record<Action, readonly string[]> = { subscribe: [], publish: [], manage: [], presence: [] };
  for (const action of Object.values(Action)) {
    const list = (value as Record<string, unknown>)[action];
    if (list === undefined) continue;
    if (!Array.isArray(list)) return `${named(action)} must be an array of topic patterns`;
    for (const pattern of list) {
      if (typeof pattern !== 'string') return `${named(action)} must hold only strings`;
      const problem = checkTopic(pattern, { maxLength: maxTopicLength, allowWildcards: true });
      if (problem) return `${named(action)}: ${problem.message}`;
    }
    grants[action] = list as string[];
  }
  return grants;
}
