/** Connected/disconnected bookkeeping for the NATS buses: one log line and one event per change. */
import type { Logger } from '../log.js';
import type { BusStatus } from './bus.js';

export class BusStatusReporter {
  private connectedNow = false;
  private readonly listeners: Array<(status: BusStatus) => void> = [];

  constructor(private readonly log: Logger) {}

  get connected(): boolean {
    return this.connectedNow;
  }

  onStatus(listener: (status: BusStatus) => void): void {
    this.listeners.push(listener);
  }

  /** Logs and reports a change; a repeat of the current state says nothing. */
  set(connected: boolean, reason: string, lostMessages = false): void {
    if (this.connectedNow === connected) return;
    this.connectedNow = connected;
    this.log.info({ nats: reason }, connected ? 'bus connected' : 'bus disconnected');
    const status: BusStatus = connected ? { type: 'connected', lostMessages } : { type: 'disconnected', reason };
    for (const listener of this.listeners) listener(status);
  }
}
