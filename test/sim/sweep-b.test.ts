// Proves that the protocol cores keep every safety and liveness check through seeded fault
// schedules: seeds 1001..2000 of the simulator (test/sim/run.ts), half of the sweep.
import { it } from "vitest";
import { sweepHalf } from "./sweep";

it("passes every check on the second half of the seed sweep", () => sweepHalf(1), 300_000);
