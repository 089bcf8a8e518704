// A small TCP proxy for network faults (tests and `kv chaos`), placed between the coordinator and one
// replica. It forwards bytes both ways, and can delay them, black-hole them (keep every connection
// open and accept new ones, but forward nothing: a peer that never answers), or cut every connection.
import * as net from "node:net";

export type ProxyMode = "pass" | "blackhole";

export class TcpProxy {
  private mode: ProxyMode = "pass";
  private delayMs = 0;
  private readonly sockets = new Set<net.Socket>();
  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  /** Listens on a random free port of 127.0.0.1 and forwards to targetPort there. */
  static async start(targetPort: number): Promise<TcpProxy> {
    let proxy: TcpProxy | null = null;
    const server = net.createServer((client) => proxy?.accept(client, targetPort));
    const port = await new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        const address = server.address();
        if (address === null || typeof address === "string") reject(new Error("no port"));
        else resolve(address.port);
      });
    });
    proxy = new TcpProxy(server, port);
    return proxy;
  }

  /** Forward again (bytes held while black-holed are dropped; the peers' protocol must recover). */
  pass(): void {
    this.mode = "pass";
  }

  blackhole(): void {
    this.mode = "blackhole";
  }

  setDelay(ms: number): void {
    this.delayMs = ms;
  }

  /** Closes every open connection (as a network cut or a reset would). */
  cut(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket, targetPort: number): void {
    const upstream = net.connect({ host: "127.0.0.1", port: targetPort });
    this.sockets.add(client);
    this.sockets.add(upstream);
    const forward = (from: net.Socket, to: net.Socket) => {
      from.on("data", (chunk: Buffer) => {
        if (this.mode === "blackhole") return;
        if (this.delayMs === 0) to.write(chunk);
        else setTimeout(() => to.destroyed || to.write(chunk), this.delayMs);
      });
    };
    forward(client, upstream);
    forward(upstream, client);
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on("close", closeBoth);
    upstream.on("close", closeBoth);
    client.on("error", closeBoth);
    upstream.on("error", closeBoth);
  }
}
