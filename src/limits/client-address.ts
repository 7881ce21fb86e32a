/**
 * The client's address for per-address limits. The socket's peer is the truth unless the operator
 * says how many proxies stand in front (HUB_TRUST_PROXY_HOPS): then the address is the
 * X-Forwarded-For entry that many hops back from the socket, since each trusted proxy appends the
 * address it saw. Entries further left were written by the client and can be forged; they are never used.
 */

// A forwarded chain longer than this is not worth splitting (and the header is bounded anyway).
const MAX_FORWARDED_ENTRIES = 32;

export function clientAddress(socketAddress: string | undefined, forwardedFor: string | undefined, trustedHops: number): string {
  const peer = socketAddress ?? 'unknown';
  if (trustedHops === 0 || forwardedFor === undefined) return peer;
  const chain = forwardedFor.split(',', MAX_FORWARDED_ENTRIES).map((s) => s.trim()).filter((s) => s !== '');
  chain.push(peer);
  // hops=1: the proxy connected to us; the client is the last entry it appended.
  const index = chain.length - 1 - trustedHops;
  return chain[Math.max(0, index)]!;
}
