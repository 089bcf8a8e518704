// Which coordinator a replica asks about the outcome of its in-doubt transactions. Pure, and shared
// by the shipped transport (replica/server.ts, over addresses) and the simulator's (test/sim/nodes.ts,
// over coordinator ids), so that the rule is written once and the simulator tests it.
//
// The rule: ask the coordinator this replica promised its epoch to (follow); until it promised any,
// the first configured. A query that fails moves on to the next configured coordinator, unless the
// target changed meanwhile: the one promised may be a standby now (it refuses), and a peer no longer
// settles what it never saw (intent commits), so a replica that kept asking its old coordinator
// would never settle (the simulator's seed 1390). Any active coordinator answers truly about a
// transaction of its epoch or an earlier one, and not at all about a later one
// (coordinator/core.ts outcomeFor).
import { assert } from "../common/assert";

export class OutcomeTarget {
  private target: string;

  constructor(private readonly configured: readonly string[]) {
    assert(configured.length > 0, "a replica needs at least one coordinator to ask");
    this.target = configured[0]!;
  }

  /** The coordinator to ask now. */
  get current(): string {
    return this.target;
  }

  /** The replica promised its epoch to `coordinator` ("" when the promise names none): ask it from now on. True if that changed the target. */
  follow(coordinator: string): boolean {
    if (coordinator === "" || coordinator === this.target) return false;
    this.target = coordinator;
    return true;
  }

  /**
   * A query to `asked` failed: the next one goes to the configured coordinator after it (the first,
   * if `asked` is not configured), unless the target moved on meanwhile. True if that changed it.
   */
  failed(asked: string): boolean {
    if (asked !== this.target) return false;
    const next = this.configured[(this.configured.indexOf(asked) + 1) % this.configured.length]!;
    if (next === this.target) return false;
    this.target = next;
    return true;
  }
}
