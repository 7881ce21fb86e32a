/**
 * What this node does with the control channel's requests: each names a Hub method. Kept apart
 * from the channel (which knows the bus, not the hub) and from the routes (which know HTTP).
 */
import type { Hub } from '../hub/hub.js';
import type { ControlHandler } from './channel.js';
import type { PresenceAnswer, UserTopicsAnswer } from './messages.js';

export function controlService(hub: Hub): ControlHandler {
  return async (request) => {
    switch (request.op) {
      case 'stream-topics':
        return hub.changeStreamTopics(request.stream, request.key, request.add, request.remove);
      case 'user-topics':
        return (await hub.changeUserTopics(request.user, request.add, request.remove)) satisfies UserTopicsAnswer;
      case 'presence': {
        const { streams, users } = hub.presence(request.subject);
        return { streams, users: [...users].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) } satisfies PresenceAnswer;
      }
    }
  };
}
