import { describe, expect, it } from 'vitest';
import { PEER_TTL_BEATS, Peers } from '../../src/control/peers.js';
import { nodeOfStream } from '../../src/hub/live-stream.js';

describe('Peers', () => {
  it('knows no full view during its first heartbeat interval, then waits for itself and every node heard lately', () => {
    const peers = new Peers('self', 100, 0);
    expect(peers.heard('a', 10)).toBe(true);
    expect(peers.heard('a', 20)).toBe(false);
    expect(peers.heard('self', 20)).toBe(false);
    expect(peers.expected(99)).toBeUndefined();
    expect(peers.expected(100)).toEqual(new Set(['self', 'a']));
  });

  it(`gives up a node silent for ${PEER_TTL_BEATS} heartbeats, and greets it as new when it comes back`, () => {
    const peers = new Peers('self', 100, 0);
    peers.heard('a', 0);
    peers.heard('b', 250);
    expect(peers.expected(300)).toEqual(new Set(['self', 'a', 'b']));
    expect(peers.expected(301)).toEqual(new Set(['self', 'b']));
    expect(peers.heard('a', 400)).toBe(true);
  });
});

describe('nodeOfStream', () => {
  it('reads the node from an id the hub makes, and nothing from any other text', () => {
    expect(nodeOfStream('a1b2c3d4e5f6.42')).toBe('a1b2c3d4e5f6');
    for (const id of ['', 'a1b2.', '.42', 'A1B2.4', 'a1b2.4.5', 'a1b2-4', 'zz.4', `${'a'.repeat(33)}.1`]) expect(nodeOfStream(id)).toBeUndefined();
  });
});
