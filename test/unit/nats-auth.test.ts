import { describe, expect, it } from 'vitest';
import { natsAuth } from '../../src/bus/nats-connection.js';

describe('natsAuth: credentials in NATS_URL become connection options', () => {
  it('takes user and password off every URL', () => {
    expect(natsAuth(['nats://hub:s%40cret@a:4222', 'nats://hub:s%40cret@b:4222'])).toEqual({ servers: ['nats://a:4222', 'nats://b:4222'], user: 'hub', pass: 's@cret' });
  });

  it('reads a lone userinfo as a token', () => {
    expect(natsAuth(['nats://t0ken@a:4222', 'b:4222'])).toEqual({ servers: ['nats://a:4222', 'b:4222'], token: 't0ken' });
  });

  it('leaves URLs without credentials as they are', () => {
    expect(natsAuth(['nats://a:4222', 'b:4222'])).toEqual({ servers: ['nats://a:4222', 'b:4222'] });
  });
});
