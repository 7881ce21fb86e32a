/**
 * In-process subscriptions by pattern, delivered NATS-style: a message goes to every matching
 * subscription, overlapping ones included. The embedded bus and the JetStream bus (which reads one
 * ordered consumer and fans out locally) both dispatch through it.
 */
import type { BusMessage, BusSubscription, MessageHandler } from './bus.js';
import { PatternIndex } from '../topics/pattern-index.js';

interface LocalSubscription extends BusSubscription {
  readonly onMessage: MessageHandler;
  active: boolean;
}

export class LocalDispatch {
  private readonly subscriptions = new PatternIndex<LocalSubscription>();

  add(pattern: string, onMessage: MessageHandler): BusSubscription {
    const subscription: LocalSubscription = {
      pattern,
      onMessage,
      active: true,
      unsubscribe: () => {
        if (!subscription.active) return;
        subscription.active = false;
        this.subscriptions.remove(pattern, subscription);
      },
    };
    this.subscriptions.add(pattern, subscription);
    return subscription;
  }

  dispatch(msg: BusMessage): void {
    // match() returns a snapshot, so a handler that subscribes or unsubscribes does not change who
    // gets this message; one unsubscribed meanwhile is skipped, as NATS would.
    for (const sub of this.subscriptions.match(msg.subject)) {
      if (sub.active) sub.onMessage(msg);
    }
  }
}
