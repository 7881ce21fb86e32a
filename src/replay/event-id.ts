/**
 * Event ids are `<epoch>-<seq>`: the epoch names the sequence space (a process for node-local
 * sequences), the seq orders events within it. Clients treat ids as opaque.
 */

export type ParsedId = { readonly known: true; readonly seq: number } | { readonly known: false };

const UNKNOWN: ParsedId = { known: false };

// Far longer than any id the hub makes; anything longer is not ours and is not worth parsing.
export const MAX_ID_LENGTH = 64;

export function formatEventId(epoch: string, seq: number): string {
  return `${epoch}-${seq}`;
}

/** Reads an id a client sent back: known when it is of this epoch (whether this node reached it yet is the caller's question). */
export function parseEventId(id: string, epoch: string): ParsedId {
  if (id.length > MAX_ID_LENGTH) return UNKNOWN;
  const dash = id.lastIndexOf('-');
  if (dash <= 0 || id.slice(0, dash) !== epoch) return UNKNOWN;
  const digits = id.slice(dash + 1);
  if (!/^\d{1,15}$/.test(digits)) return UNKNOWN;
  return { known: true, seq: Number(digits) };
}
