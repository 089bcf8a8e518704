// The clients that watch a chaos run's cluster (the coordinators' KvClient and status, each
// replica's status and dump), whichever kind of cluster it is (local-cluster.ts, attached.ts,
// netns-cluster.ts): ChaosCluster.admin.
import * as grpc from "@grpc/grpc-js";
import { KvClient, type KvStatus } from "../../client/client";
import { channelOptions, participantProto } from "../../proto/load";
import type { DumpResponse__Output } from "../../proto/gen/twopc/participant/DumpResponse";
import type { ParticipantClient } from "../../proto/gen/twopc/participant/Participant";
import type { ParticipantStatusResponse__Output } from "../../proto/gen/twopc/participant/ParticipantStatusResponse";

/** Deadline of each admin call (coordinator status, replica status and dump). */
const adminCallTimeoutMs = 10_000;

/** The clients that watch a cluster: the coordinator's KvClient and each replica's admin API. */
export class ClusterAdmin {
  private readonly participants = new Map<string, ParticipantClient>();
  private client: KvClient | null = null;

  /** `replicas`: replica id -> HOST:PORT of its participant service (not through any proxy). */
  constructor(readonly coordinatorAddress: string, replicas: ReadonlyMap<string, string>) {
    for (const [id, address] of replicas) {
      this.participants.set(id, new participantProto.Participant(address, grpc.credentials.createInsecure(), channelOptions) as unknown as ParticipantClient);
    }
  }

  kv(): KvClient {
    this.client ??= new KvClient(this.coordinatorAddress, { timeoutMs: 3_000 });
    return this.client;
  }

  status(): Promise<KvStatus> {
    return this.kv().status();
  }

  replicaStatus(id: string): Promise<ParticipantStatusResponse__Output> {
    return this.unary<ParticipantStatusResponse__Output>(id, (client, options, done) => client.Status({}, options, done));
  }

  dump(id: string): Promise<DumpResponse__Output> {
    return this.unary<DumpResponse__Output>(id, (client, options, done) => client.Dump({}, options, done));
  }

  close(): void {
    this.client?.close();
    for (const client of this.participants.values()) client.close();
  }

  private unary<T>(
    id: string,
    start: (client: ParticipantClient, options: grpc.CallOptions, done: (error: grpc.ServiceError | null, response?: T) => void) => void,
  ): Promise<T> {
    const client = this.participants.get(id);
    if (client === undefined) return Promise.reject(new Error(`no replica ${id}`));
    return new Promise((resolve, reject) =>
      start(client, { deadline: new Date(Date.now() + adminCallTimeoutMs) }, (error, response) =>
        error || response === undefined ? reject(error ?? new Error("empty response")) : resolve(response),
      ),
    );
  }
}
