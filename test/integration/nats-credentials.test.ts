/**
 * Credentials in NATS_URL never reach a log line: a hub started on each NATS bus with a user and
 * password in its URL, and every line it logged from start to stop, read back. Its NATS is a port
 * nothing listens on: the start-up line is written before any connection, and the hub starts anyway.
 */
import { describe, expect, it } from 'vitest';
import { startTestHub } from '../helpers/hub.js';
import { captureLog } from '../helpers/log-capture.js';
import { freePort } from '../helpers/net.js';
import { startNatsServer } from '../helpers/nats-server.js';
import { waitFor } from '../helpers/wait.js';

const USER = 'hub-user';
const PASSWORD = 'pa55-w0rd-never-logged';

for (const { name, env, line } of [
  { name: 'core NATS', env: {}, line: 'core NATS bus: ids are per node; resume works on the same node' },
  { name: 'JetStream', env: { HUB_JETSTREAM: '1' }, line: 'JetStream bus: cluster-wide ids, resume on any node' },
]) {
  describe(`NATS credentials in the log, ${name} [edge]`, () => {
    it('names the servers without their userinfo', async () => {
      const port = await freePort();
      const captured = captureLog('debug');
      {
        await using hub = await startTestHub({ ...env, NATS_URL: `nats://${USER}:${PASSWORD}@127.0.0.1:${port},nats://token-${PASSWORD}@127.0.0.1:${port}` }, { log: captured.log, unready: true });
        expect(hub.hub.isReady).toBe(false);
      }
      const busLine = captured.records().find((r) => r.msg === line);
      expect(busLine?.servers).toEqual([`nats://***@127.0.0.1:${port}`, `nats://***@127.0.0.1:${port}`]);
      expect(captured.lines.join('')).not.toContain(PASSWORD);
      expect(captured.lines.join('')).not.toContain(USER);
    });
  });
}

for (const { name, env } of [
  { name: 'core NATS', env: {} },
  { name: 'JetStream', env: { HUB_JETSTREAM: '1' } },
]) {
  describe(`NATS credentials in NATS_URL authenticate, ${name} [nats]`, () => {
    it('connects to a server that requires them, and not with a wrong password', async () => {
      const nats = await startNatsServer({ jetstream: true, credentials: { user: USER, pass: PASSWORD } });
      try {
        const url = `nats://${USER}:${PASSWORD}@127.0.0.1:${nats.port}`;
        {
          await using hub = await startTestHub({ ...env, NATS_URL: url });
          expect(hub.hub.isReady).toBe(true);
        }
        await using refused = await startTestHub({ ...env, NATS_URL: `nats://${USER}:wrong@127.0.0.1:${nats.port}` }, { unready: true });
        // Nothing positive to wait for: the client retries for ever; give it many attempts' time.
        await expect(waitFor('a hub with a wrong password to connect', () => refused.hub.isReady, 1500)).rejects.toThrow(/timed out/);
      } finally {
        await nats.stop();
      }
    });
  });
}
