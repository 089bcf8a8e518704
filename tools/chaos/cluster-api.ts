// What a chaos run needs of a cluster, in a module of its own: the three kinds of cluster implement
// it (local-cluster.ts, attached.ts, netns-cluster.ts), each watching it through the same
// ClusterAdmin (cluster-admin.ts), and chaos.ts drives it, so none of them imports another.
import type { ClusterAdmin } from "./cluster-admin";
import type { NetworkFault } from "../netns/network";

/** Faults on a member's own network link (a cluster whose members each have one: tools/netns/). */
export interface LinkFaults {
  /** Puts the fault on the member's link, both ways (replacing any other). */
  inject(name: string, fault: NetworkFault): void;
  /** Removes the member's link fault, if any. */
  heal(name: string): void;
}

/**
 * What a chaos run needs of a cluster. Members are named by coordinator name ("coordinator",
 * "coordinator-2", ...) and by replica id; every fault is healed by the run itself, one at a time,
 * and heal() heals whatever is left.
 */
export interface ChaosCluster {
  /** Every coordinator's address, comma-separated. */
  readonly coordinatorAddress: string;
  readonly coordinatorNames: readonly string[];
  readonly replicaIds: readonly string[];
  /** Faults on each member's network link, or null when the members share one (127.0.0.1). heal() heals them too. */
  readonly links: LinkFaults | null;
  /** Why partitions cannot be injected into this cluster, or null when they can. */
  readonly partitionUnsupported: string | null;
  /** kill -9, and wait until the process is gone. */
  kill(name: string): Promise<void>;
  /** Starts a member that is down, with failpoints armed when given ([ID:]NAME=ACTION[@N],...). */
  start(name: string, failpoints?: string): Promise<void>;
  /** SIGSTOP. */
  pause(name: string): Promise<void>;
  /** SIGCONT. */
  resume(name: string): Promise<void>;
  /** Waits for a member to die (as one started with a crash failpoint does); false if alive at the deadline. */
  waitExit(name: string, timeoutMs: number): Promise<boolean>;
  /** Black-holes the traffic between the coordinator and a replica. */
  isolate(replicaId: string): void;
  /** Ends isolate(): forwards again, and cuts the connections so that both sides reconnect. */
  reconnect(replicaId: string): void;
  /** Continues every paused member and starts every member that is down. */
  heal(): Promise<void>;
  /** The clients that watch it: the coordinators' KvClient and status, each replica's status and dump. */
  readonly admin: ClusterAdmin;
  /** The run is over: a cluster chaos started is stopped; an attached one is left running. */
  release(): Promise<void>;
}

