// The /metrics endpoint of `kv coordinator` and `kv replica` (--metrics-listen HOST:PORT): a plain
// node:http server that answers GET /metrics with the process's registry in the Prometheus text
// format (coordinator/metrics.ts, replica/metrics.ts). Anything else is refused with a status that
// says what is served. It runs beside the gRPC server and stops before it.
import * as http from "node:http";
import type { Registry } from "prom-client";
import { parseAddress } from "../common/validate";

export interface MetricsEndpoint {
  readonly port: number;
  close(): Promise<void>;
}

/** Serves `registry` at http://HOST:PORT/metrics (port 0 picks a free port). */
export async function serveMetrics(listen: string, registry: Registry): Promise<MetricsEndpoint> {
  const { host, port } = parseAddress("--metrics-listen", listen, true);
  const server = http.createServer((request, response) => {
    const path = (request.url ?? "").split("?")[0];
    if (path !== "/metrics") {
      response.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end(`not found: ${path}; the metrics are at /metrics\n`);
      return;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { "content-type": "text/plain; charset=utf-8", allow: "GET, HEAD" }).end(`${request.method} is not served; GET /metrics\n`);
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { "content-type": registry.contentType }).end(request.method === "HEAD" ? undefined : text),
      (error: unknown) => response.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end(`collecting the metrics failed: ${error instanceof Error ? error.message : String(error)}\n`),
    );
  });
  const boundPort = await new Promise<number>((resolve, reject) => {
    server.once("error", (error) => reject(new Error(`cannot serve metrics on ${listen}: ${error.message}`)));
    server.listen(port, host, () => {
      const address = server.address();
      resolve(address !== null && typeof address === "object" ? address.port : port);
    });
  });
  return {
    port: boundPort,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A scraper's keep-alive connection must not hold the process up at its stop.
        server.closeAllConnections();
      }),
  };
}
