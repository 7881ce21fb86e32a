import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/limits/rate-limit.js';
import { AddressLimit } from '../../src/limits/address-limit.js';
import { clientAddress } from '../../src/limits/client-address.js';

describe('RateLimiter', () => {
  it('allows a burst, then refills at the rate', () => {
    let now = 0;
    const limiter = new RateLimiter(2, 3, 100, () => now);
    expect([limiter.take('k'), limiter.take('k'), limiter.take('k')]).toEqual([0, 0, 0]);
    expect(limiter.take('k')).toBe(1);
    now += 500; // one token back at 2/s
    expect(limiter.take('k')).toBe(0);
    expect(limiter.take('k')).toBeGreaterThan(0);
    now += 10_000; // refill caps at the burst
    expect([limiter.take('k'), limiter.take('k'), limiter.take('k'), limiter.take('k')]).toEqual([0, 0, 0, 1]);
  });

  it('keys are independent', () => {
    const limiter = new RateLimiter(1, 1, 100, () => 0);
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBeGreaterThan(0);
    expect(limiter.take('b')).toBe(0);
  });

  it('holds at most maxKeys buckets, dropping the least recently used', () => {
    const limiter = new RateLimiter(1, 1, 3, () => 0);
    for (const key of ['a', 'b', 'c']) limiter.take(key);
    limiter.take('a'); // a is now the most recent (and empty)
    limiter.take('d'); // evicts b
    expect(limiter.size).toBe(3);
    expect(limiter.take('a')).toBeGreaterThan(0); // a kept its empty bucket
    for (let i = 0; i < 10_000; i++) limiter.take(`flood-${i}`);
    expect(limiter.size).toBe(3);
  });

  it('rate 0 is off', () => {
    const limiter = new RateLimiter(0, 1, 1, () => 0);
    for (let i = 0; i < 100; i++) expect(limiter.take('k')).toBe(0);
    expect(limiter.size).toBe(0);
  });
});

describe('AddressLimit', () => {
  it('counts per address and forgets an address when its last stream ends', () => {
    const limit = new AddressLimit(2);
    const a1 = limit.acquire('a')!;
    const a2 = limit.acquire('a')!;
    expect(limit.acquire('a')).toBeUndefined();
    expect(limit.acquire('b')).toBeDefined();
    a1();
    a1(); // idempotent
    expect(limit.acquire('a')).toBeDefined();
    a2();
    expect(limit.addresses).toBe(2);
  });

  it('0 is unlimited and keeps no entries', () => {
    const limit = new AddressLimit(0);
    for (let i = 0; i < 1000; i++) expect(limit.acquire('a')).toBeDefined();
    expect(limit.addresses).toBe(0);
  });
});

describe('clientAddress', () => {
  it('uses the socket unless proxies are trusted', () => {
    expect(clientAddress('10.0.0.1', '1.2.3.4', 0)).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.1', undefined, 1)).toBe('10.0.0.1');
  });

  it('takes the entry the trusted proxies appended, never a forged one further left', () => {
    // client forged "6.6.6.6"; nginx (10.0.0.1) appended the real client 1.2.3.4
    expect(clientAddress('10.0.0.1', '6.6.6.6, 1.2.3.4', 1)).toBe('1.2.3.4');
    // two proxies: CDN appended 1.2.3.4, the load balancer appended the CDN 5.5.5.5
    expect(clientAddress('10.0.0.1', '6.6.6.6, 1.2.3.4, 5.5.5.5', 2)).toBe('1.2.3.4');
    // fewer entries than hops: the leftmost is the best there is
    expect(clientAddress('10.0.0.1', '1.2.3.4', 3)).toBe('1.2.3.4');
  });
});

describe('limits changed by a reload', () => {
  it('a lowered rate and burst hold at once, the buckets kept; a lower key bound forgets the least recently used', () => {
    let now = 0;
    const limiter = new RateLimiter(10, 5, 10, () => now);
    for (let i = 0; i < 3; i++) expect(limiter.take('a')).toBe(0);
    limiter.take('b');
    limiter.reconfigure(1, 1, 1);
    expect(limiter.size).toBe(1); // only 'b', the most recently used, is left
    // Its bucket is kept (4 tokens) and cut down to the new burst of 1: one take, then none.
    expect([limiter.take('b'), limiter.take('b')]).toEqual([0, 1]);
    now += 1000;
    expect(limiter.take('b')).toBe(0); // refilled at the new rate
  });

  it('a lowered per-address limit keeps open streams and refuses new ones until the address is under', () => {
    const limit = new AddressLimit(3);
    const releases = [limit.acquire('a')!, limit.acquire('a')!, limit.acquire('a')!];
    limit.setMax(2);
    expect(limit.acquire('a')).toBeUndefined();
    releases[0]!();
    expect(limit.acquire('a')).toBeUndefined(); // 2 open, the limit is 2
    releases[1]!();
    expect(limit.acquire('a')).toBeDefined();
  });
});
