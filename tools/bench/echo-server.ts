// The grpc-js echo server of the comparison benchmark (tools/bench/compare.ts): a unary Echo that
// returns its request, in a process of its own, so that the echo ceiling is measured across two
// processes as the stores are. Listens on 127.0.0.1 on a port the system picks and says which on
// stdout ("listening 127.0.0.1:PORT"); stops on SIGTERM or SIGINT.
//
//   node dist/tools/bench/echo-server.js
import * as grpc from "@grpc/grpc-js";
import { echoServiceDefinition, type EchoMessage } from "./compare-protos";

/** How long calls under way may finish after a stop signal. */
const shutdownGraceMs = 1_000;

function main(): void {
  const server = new grpc.Server();
  server.addService(echoServiceDefinition, {
    Echo: (call: grpc.ServerUnaryCall<EchoMessage, EchoMessage>, callback: grpc.sendUnaryData<EchoMessage>) => {
      callback(null, { payload: call.request.payload });
    },
  });
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) => {
    if (error !== null) {
      console.error(`echo-server: cannot listen: ${error.message}`);
      process.exit(1);
    }
    console.log(`listening 127.0.0.1:${port}`);
  });
  const stop = (): void => {
    const force = setTimeout(() => {
      server.forceShutdown();
      process.exit(0);
    }, shutdownGraceMs);
    server.tryShutdown(() => {
      clearTimeout(force);
      process.exit(0);
    });
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

main();
