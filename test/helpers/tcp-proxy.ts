/**
 * A loopback TCP proxy in front of one hub or several (then a load balancer without stickiness:
 * each new connection goes to a random target), so a test can cut every connection (a network drop
 * the client did not ask for) or stop reading from the hub (a client too slow to keep up).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export class TcpProxy {
  private readonly server: Server;
  private readonly pairs = new Set<[client: Socket, upstream: Socket]>();
  private stalled = false;
  port = 0;

  private targets: number[];

  constructor(targets: number | readonly number[]) {
    this.targets = typeof targets === 'number' ? [targets] : [...targets];
    this.server = createServer((client) => {
      const port = this.targets[Math.floor(Math.random() * this.targets.length)]!;
      const upstream = connect(port, '127.0.0.1');
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      if (this.stalled) upstream.pause();
      client.pipe(upstream);
      upstream.pipe(client);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.pairs.delete(pair);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return `http://127.0.0.1:${this.port}`;
  }

  /** Replace the set of hubs new connections go to (a replica left or joined). */
  setTargets(targets: readonly number[]): void {
    this.targets = [...targets];
  }

  /** Drop every connection at once, as a network failure would. */
  cut(): void {
    for (const [client, upstream] of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  /** Stop reading from the hub on every connection (now and new ones): the hub's writes back up. */
  stall(): void {
    this.stalled = true;
    for (const [, upstream] of this.pairs) upstream.pause();
  }

  resume(): void {
    this.stalled = false;
    for (const [, upstream] of this.pairs) upstream.resume();
  }

  get connections(): number {
    return this.pairs.size;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
