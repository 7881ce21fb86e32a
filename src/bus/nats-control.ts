/**
 * The control transport of both NATS buses: core NATS request/reply on the bus's own connection.
 * A request nobody serves fails at once (the server's "no responders" status), one whose server
 * does not answer in time fails on the timeout; both are "no answer". A gather publishes once with
 * a reply inbox and takes every answer that comes back to it.
 */
import { ErrorCode, NatsError, createInbox, type NatsConnection } from 'nats';
import type { ControlTransport } from './bus.js';

export class NatsControl implements ControlTransport {
  constructor(private readonly connection: Promise<NatsConnection>) {}

  serve(subject: string, handler: (request: Uint8Array) => Promise<Uint8Array>): () => void {
    let stopped = false;
    let stop = (): void => void (stopped = true);
    void this.connection.then(
      (nc) => {
        if (stopped || nc.isClosed()) return;
        const sub = nc.subscribe(subject, {
          callback: (err, msg) => {
            if (err) return;
            const answer = handler(msg.data);
            // A handler answers its own errors; a rejection means it had nothing to say.
            if (msg.reply) answer.then((bytes) => msg.respond(bytes), () => {});
            else answer.catch(() => {});
          },
        });
        stop = () => sub.unsubscribe();
      },
      () => {},
    );
    return () => stop();
  }

  async request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array | undefined> {
    const nc = await this.connection;
    try {
      return (await nc.request(subject, data, { timeout: timeoutMs })).data;
    } catch (err) {
      if (err instanceof NatsError && (err.code === ErrorCode.NoResponders || err.code === ErrorCode.Timeout)) return undefined;
      throw err;
    }
  }

  async gather(subject: string, data: Uint8Array, timeoutMs: number, enough: (answers: readonly Uint8Array[]) => boolean): Promise<Uint8Array[]> {
    const nc = await this.connection;
    const inbox = createInbox();
    const answers: Uint8Array[] = [];
    return new Promise<Uint8Array[]>((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        sub.unsubscribe();
        resolve(answers);
      };
      const timer = setTimeout(finish, timeoutMs);
      const sub = nc.subscribe(inbox, {
        callback: (err, msg) => {
          if (err) return;
          answers.push(msg.data);
          if (enough(answers)) finish();
        },
      });
      try {
        nc.publish(subject, data, { reply: inbox });
      } catch (err) {
        clearTimeout(timer);
        sub.unsubscribe();
        reject(err);
      }
    });
  }

  announce(subject: string, data: Uint8Array): void {
    void this.connection.then((nc) => {
      if (!nc.isClosed() && !nc.isDraining()) nc.publish(subject, data);
    }, () => {});
  }
}
