// Starts `kv shop` as its own process for the shop tests (real process, real HTTP), on a free port
// it picks itself (--listen 127.0.0.1:0), and reads its URL from the listening line.
import { spawn } from "node:child_process";
import { kvScript, Proc, waitFor } from "./harness";

export async function startShopProc(coordinators: string, prefix: string, extra: string[] = []): Promise<{ proc: Proc; url: string }> {
  const child = spawn(process.execPath, [kvScript, "shop", "--listen", "127.0.0.1:0", "--coordinator", coordinators, "--prefix", prefix, ...extra], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const proc = new Proc("shop", child);
  // null once it exited without listening: fail at once, not at the deadline.
  const url = await waitFor("kv shop listening", () => {
    for (const line of proc.output) {
      const match = /shop listening on (http:\/\/[0-9.:]+)/.exec(line);
      if (match) return match[1];
    }
    return proc.alive ? undefined : null;
  });
  if (url === null || url === undefined) throw new Error(`kv shop exited before it listened: ${proc.output.join(" | ")}`);
  return { proc, url };
}
