// The scheduler of a real process (common/env.ts): the wall clock, setImmediate, setInterval and
// Math.random. The simulator passes its virtual world instead.
import type { Scheduler } from "./env";

export const systemScheduler: Scheduler = {
  nowMs: () => Date.now(),
  soon: (fn) => void setImmediate(fn),
  every: (intervalMs, fn) => {
    const timer = setInterval(fn, intervalMs);
    return () => clearInterval(timer);
  },
  after: (delayMs, fn) => {
    const timer = setTimeout(fn, delayMs);
    return () => clearTimeout(timer);
  },
  random: () => Math.random(),
};
