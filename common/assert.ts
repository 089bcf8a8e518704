// Assertions guard invariants. A failed assertion is a bug in this program, never an operating
// error: it throws AssertionFailure, which no code catches, so the process crashes loudly.

export class AssertionFailure extends Error {
  override readonly name = "AssertionFailure";
}

export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new AssertionFailure(`assertion failed: ${message}`);
}

export function assertNever(value: never): never {
  throw new AssertionFailure(`unexpected value: ${JSON.stringify(value)}`);
}
