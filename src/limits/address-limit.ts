/**
 * Counts open streams per client address. Only addresses with an open stream have an entry, so the
 * map is bounded by HUB_MAX_CONNECTIONS (one entry per address, however many streams it holds).
 */
export class AddressLimit {
  private readonly open = new Map<string, number>();

  constructor(private maxPerAddress: number) {}

  /**
   * A reload's HUB_MAX_CONNECTIONS_PER_ADDRESS. Streams above a lowered limit stay open, and the
   * address gets no new one until it is under. Off (0) counts nothing, so that costs nothing: a limit
   * turned on by a reload counts the streams opened from then on (and their releases still balance).
   */
  setMax(maxPerAddress: number): void {
    this.maxPerAddress = maxPerAddress;
  }

  get max(): number {
    return this.maxPerAddress;
  }

  get addresses(): number {
    return this.open.size;
  }

  /** Take a slot for `address`: returns its release (idempotent), or undefined when the address is full. */
  acquire(address: string): (() => void) | undefined {
    if (this.maxPerAddress === 0) return () => {};
    const count = this.open.get(address) ?? 0;
    if (count >= this.maxPerAddress) return undefined;
    this.open.set(address, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(address) ?? 1) - 1;
      if (left <= 0) this.open.delete(address);
      else this.open.set(address, left);
    };
  }
}
