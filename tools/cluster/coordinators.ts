// Asking one coordinator, by its own address, what it is: is it ready (the gRPC health service,
// grpc.health.v1, service "", answers SERVING only on the active coordinator once a write sent now
// goes ahead at once), its role ("active", "standby", "taking-over") and which coordinator it
// believes is active (Kv.Status). `kv cluster` uses it for its "ready" line and the roles in its
// manifest, and the failover benchmark to find the coordinator to kill.
//
// It calls the address it is given and no other: it uses the raw gRPC stubs, not the client library,
// which (issue 12) follows a standby's pointer to the active coordinator by itself.
import { deadline } from "../../proto/grpc-status";
import { channelOptions, healthProto, kvProto } from "../../proto/load";
import { channelCredentials, type Tls } from "../../proto/tls";
import type { HealthClient } from "../../proto/gen/grpc/health/v1/Health";
import type { KvClient as KvStub } from "../../proto/gen/twopc/kv/Kv";
import type { StatusResponse__Output } from "../../proto/gen/twopc/kv/StatusResponse";

export const coordinatorRoles = ["active", "standby", "taking-over"] as const;
export type CoordinatorRole = (typeof coordinatorRoles)[number];

/** A role as Status carries it; null when it carries none ("", a coordinator without failover) or one this kv does not know. */
export function decodeRole(wire: string): CoordinatorRole | null {
  return (coordinatorRoles as readonly string[]).includes(wire) ? (wire as CoordinatorRole) : null;
}

export interface CoordinatorReport {
  readonly address: string;
  /** The health service answered SERVING. */
  readonly serving: boolean;
  /** From Status; null when Status failed or carries no role. */
  readonly id: string | null;
  readonly role: CoordinatorRole | null;
  /** The role as the wire had it, for a person ("" when none). */
  readonly roleWire: string;
  /** The active coordinator as this one knows it (id and HOST:PORT); null when unknown. */
  readonly activeId: string | null;
  readonly activeAddress: string | null;
  readonly epoch: number | null;
  /** Why it is not ready, as Status says (null when ready, or when Status failed). */
  readonly notReadyReason: string | null;
  /** Why health or Status failed, when one did (the process may be down, paused, or starting). */
  readonly error: string | null;
}

/** One coordinator's health and Status stubs, on one channel (kept across probes: a poller reuses it). */
export class CoordinatorProbe {
  private readonly health: HealthClient;
  private readonly kv: KvStub;

  constructor(
    readonly address: string,
    tls: Tls | null = null,
  ) {
    // The two stubs share one channel: grpc-js shares a subchannel between clients of equal target and options.
    const credentials = channelCredentials(tls);
    this.health = new healthProto.Health(address, credentials, channelOptions) as unknown as HealthClient;
    this.kv = new kvProto.Kv(address, credentials, channelOptions) as unknown as KvStub;
  }

  /** Asks health and Status at once, each with a deadline of timeoutMs; never rejects. */
  async report(timeoutMs: number): Promise<CoordinatorReport> {
    const [health, status] = await Promise.all([this.check(timeoutMs), this.status(timeoutMs)]);
    const errors = [health.error, status.error].filter((error): error is string => error !== null);
    const response = status.response;
    const roleWire = response?.role ?? "";
    return {
      address: this.address,
      serving: health.serving,
      id: response === null || response.coordinatorId === "" ? null : response.coordinatorId,
      role: decodeRole(roleWire),
      roleWire,
      activeId: response === null || response.activeCoordinatorId === "" ? null : response.activeCoordinatorId,
      activeAddress: response === null || response.activeCoordinator === "" ? null : response.activeCoordinator,
      epoch: response?.epoch ?? null,
      notReadyReason: response === null || response.ready ? null : response.notReadyReason,
      error: errors.length === 0 ? null : errors.join("; "),
    };
  }

  close(): void {
    this.health.close();
    this.kv.close();
  }

  private check(timeoutMs: number): Promise<{ serving: boolean; error: string | null }> {
    return new Promise((resolve) =>
      this.health.Check({ service: "" }, { deadline: deadline(timeoutMs) }, (error, response) => {
        if (error !== null || response === undefined) resolve({ serving: false, error: `health: ${error?.details ?? "empty response"}` });
        else resolve({ serving: response.status === "SERVING", error: null });
      }),
    );
  }

  private status(timeoutMs: number): Promise<{ response: StatusResponse__Output | null; error: string | null }> {
    return new Promise((resolve) =>
      // Brief: role, epoch and readiness, without the replicas' status (this runs every second).
      this.kv.Status({ brief: true }, { deadline: deadline(timeoutMs) }, (error, response) => {
        if (error !== null || response === undefined) resolve({ response: null, error: `status: ${error?.details ?? "empty response"}` });
        else resolve({ response, error: null });
      }),
    );
  }
}

/**
 * The active coordinator among these reports: the one serving that says it is active; else the
 * address the serving ones agree on as active; else, for coordinators that report no role (before
 * failover), the first one serving. Null when none serves.
 */
export function activeOf(reports: readonly CoordinatorReport[]): CoordinatorReport | null {
  const serving = reports.filter((report) => report.serving);
  const saysActive = serving.find((report) => report.role === "active");
  if (saysActive !== undefined) return saysActive;
  const named = serving.find((report) => reports.some((other) => other.activeAddress === report.address));
  if (named !== undefined) return named;
  return serving.find((report) => report.role === null) ?? null;
}
