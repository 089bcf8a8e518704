// Proves that the protocol cores keep every safety and liveness check through seeded fault
// schedules: seeds 1..1000 of the simulator (test/sim/run.ts), half of the sweep.
import { it } from "vitest";
import { sweepHalf } from "./sweep";

it("passes every check on the first half of the seed sweep", () => sweepHalf(0), 300_000);
