// Mutation checks for unit tests: runs a test's check with one of the bugs of common/mutations.ts
// planted in the shipped code, and hands back the expectation that failed. A test that names a bug
// proves it can fail for that reason: the same check passes without the bug (its own `it`) and fails
// on an expectation with it (the `it` that calls failureUnder). A crash of another kind (a TypeError,
// a failed assertion inside the code) is rethrown, so that it shows as what it is.
import { setMutation, type Mutation } from "../../common/mutations";

/** The message of the expectation `check` failed with while `planted` was set; throws if it passed. */
export function failureUnder(planted: Exclude<Mutation, "none">, check: () => void): string {
  setMutation(planted);
  try {
    check();
  } catch (error) {
    // vitest's expect throws chai's AssertionError.
    if (error instanceof Error && error.name === "AssertionError") return error.message;
    throw error;
  } finally {
    setMutation("none");
  }
  throw new Error(`the check passed with the planted bug ${planted}: it does not catch it`);
}
