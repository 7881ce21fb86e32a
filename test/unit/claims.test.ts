import { describe, expect, it } from 'vitest';
import { readGrants } from '../../src/auth/claims.js';

const none = { subscribe: [], publish: [], manage: [], presence: [] };

describe('readGrants', () => {
  it('reads every list; a missing claim or list grants nothing', () => {
    expect(readGrants({ ssehub: { subscribe: ['user.42.>'], publish: ['chat.7'] } }, 256)).toEqual({ ...none, subscribe: ['user.42.>'], publish: ['chat.7'] });
    expect(readGrants({ ssehub: { subscribe: ['a'] } }, 256)).toEqual({ ...none, subscribe: ['a'] });
    expect(readGrants({ sub: 'x' }, 256)).toEqual(none);
    expect(readGrants({ ssehub: {} }, 256)).toEqual(none);
    expect(readGrants({ ssehub: { publish: ['p'] } }, 256)).toEqual({ ...none, publish: ['p'] });
    expect(readGrants({ ssehub: { manage: ['rooms.>'], presence: ['rooms.*'] } }, 256)).toEqual({ ...none, manage: ['rooms.>'], presence: ['rooms.*'] });
  });

  it.each([
    [{ ssehub: 'user.>' }, /must be an object/],
    [{ ssehub: 7 }, /must be an object/],
    [{ ssehub: null }, /must be an object/],
    [{ ssehub: ['user.>'] }, /must be an object/],
    [{ ssehub: { subscribe: 'user.>' } }, /must be an array/],
    [{ ssehub: { publish: [42] } }, /only strings/],
    [{ ssehub: { subscribe: ['a..b'] } }, /empty token/],
    [{ ssehub: { subscribe: ['a.>.b'] } }, /must be the last token/],
    [{ ssehub: { manage: 'rooms.>' } }, /"ssehub.manage" must be an array/],
    [{ ssehub: { presence: ['a b'] } }, /whitespace/],
  ])('%j is refused with a reason', (payload, reason) => {
    expect(readGrants(payload, 256)).toMatch(reason);
  });
});
