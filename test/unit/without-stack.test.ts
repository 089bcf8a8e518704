// Proves common/errors.ts withoutStack: the error it makes carries no stack frames (V8 captures
// none), and the process's Error.stackTraceLimit is as it was afterwards, also when making the error
// throws; an error made outside it still has its frames.
import { describe, expect, it } from "vitest";
import { Code, KvError, withoutStack } from "../../common/errors";

describe("withoutStack", () => {
  it("makes an error with no stack frames, and leaves Error.stackTraceLimit as it was", () => {
    const limit = Error.stackTraceLimit;
    const error = withoutStack(() => new KvError(Code.FAILED_PRECONDITION, "order 7 is already paid"));
    expect(error.message).toBe("order 7 is already paid");
    expect(error.stack).not.toContain("\n    at ");
    expect(Error.stackTraceLimit).toBe(limit);
    expect(new KvError(Code.INTERNAL, "a fault").stack).toContain("\n    at ");
  });

  it("restores Error.stackTraceLimit when making the error throws", () => {
    const limit = Error.stackTraceLimit;
    expect(() =>
      withoutStack(() => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(Error.stackTraceLimit).toBe(limit);
  });
});
