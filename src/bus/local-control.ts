/**
 * The control transport of the embedded bus: one process, so a request is a call to the handler
 * that serves its subject, in a later turn (as an answer over the network would come).
 */
import type { ControlTransport } from './bus.js';

type Handler = (request: Uint8Array) => Promise<Uint8Array>;

export class LocalControl implements ControlTransport {
  private readonly handlers = new Map<string, Set<Handler>>();

  serve(subject: string, handler: Handler): () => void {
    let set = this.handlers.get(subject);
    if (!set) this.handlers.set(subject, (set = new Set()));
    set.add(handler);
    return () => void set.delete(handler);
  }

  async request(subject: string, data: Uint8Array, _timeoutMs: number): Promise<Uint8Array | undefined> {
    const handler = this.handlers.get(subject)?.values().next().value;
    return handler ? handler(data) : undefined;
  }

  async gather(subject: string, data: Uint8Array, _timeoutMs: number): Promise<Uint8Array[]> {
    return Promise.all([...(this.handlers.get(subject) ?? [])].map((handler) => handler(data)));
  }

  /** Delivered after the caller's turn, in order, as over the network: never inside the caller. */
  announce(subject: string, data: Uint8Array): void {
    queueMicrotask(() => {
      for (const handler of this.handlers.get(subject) ?? []) void handler(data).catch(() => {});
    });
  }
}
