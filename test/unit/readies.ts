// Test helper: the Readies of consecutive steps of a coordinator core as one, their lists joined in
// order (a write's COMMIT goes out at the vote that makes a majority, not at the last vote).
import { newReady, type Ready } from "../../coordinator/core";

export function joined(readies: readonly Ready[]): Ready {
  const all = newReady();
  for (const ready of readies) {
    for (const field of Object.keys(all) as (keyof Ready)[]) (all[field] as unknown[]).push(...(ready[field] as unknown[]));
  }
  return all;
}
