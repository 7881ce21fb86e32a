/**
 * The token claim that carries topic rights:
 *
 *   { "sub": "user-42", "exp": 1767225600,
 *     "ssehub": { "subscribe": ["user.42.>", "news.*"], "publish": ["chat.room.7"] } }
 *
 * One namespaced claim (like Mercure's `mercure` claim) so it cannot clash with registered claims
 * or with other applications' claims in a shared token; two lists, one per action, of NATS topic
 * patterns relative to the hub's subject prefix. A missing list grants nothing.
 */
import { checkTopic } from '../topics/subject.js';

export const CLAIM = 'ssehub';

export const Action = { Subscribe: 'subscribe', Publish: 'publish' } as const;
export type Action = (typeof Action)[keyof typeof Action];

export type TopicGrants = Readonly<Record<Action, readonly string[]>>;

/** The grants in a verified payload, or a sentence saying what is wrong with the claim. */
export function readGrants(payload: Readonly<Record<string, unknown>>, maxTopicLength: number): TopicGrants | string {
  const claim = payload[CLAIM];
  if (claim === undefined) return { subscribe: [], publish: [] };
  if (typeof claim !== 'object' || claim === null || Array.isArray(claim)) return `claim "${CLAIM}" must be an object`;
  const grants: Record<Action, readonly string[]> = { subscribe: [], publish: [] };
  for (const action of Object.values(Action)) {
    const list = (claim as Record<string, unknown>)[action];
    if (list === undefined) continue;
    if (!Array.isArray(list)) return `claim "${CLAIM}.${action}" must be an array of topic patterns`;
    for (const pattern of list) {
      if (typeof pattern !== 'string') return `claim "${CLAIM}.${action}" must hold only strings`;
      const problem = checkTopic(pattern, { maxLength: maxTopicLength, allowWildcards: true });
      if (problem) return `claim "${CLAIM}.${action}": ${problem.message}`;
    }
    grants[action] = list as string[];
  }
  return grants;
}
