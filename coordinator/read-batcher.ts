// Reads to one replica, batched (issue 13): every read the coordinator makes of a replica in one
// turn of the event loop (gets of many clients, the reading phase of transactions) goes in one Read
// call, as the prepares of a turn do, so that under load many gets share one message and one turn of
// the replica. A call carries at most keysPerReadMax keys (more make more calls); each read gets the
// rows of its own keys, in its own order, or the call's failure.
//
// A replica answers a Read only once none of its keys is held by a prepared transaction, so one key
// held in doubt would hold up every read that shared its call: a batch that fails with UNAVAILABLE
// (a read that waited out readWaitTimeoutMs) asks each of its reads again on its own, so that only
// the read of that key fails.
import { Code } from "../common/errors";
import type { CallResult, Timers } from "../common/env";
import { limits } from "../common/limits";

/** A row as a replica's Read answers it. */
export interface ReadRow {
  readonly key: string;
  readonly found: boolean;
  readonly value: Buffer;
  readonly version: number;
}

type ReadDone = (result: CallResult<ReadRow[]>) => void;
type ReadCall = (keys: readonly string[], done: ReadDone) => void;

export class ReadBatcher {
  private waiting: { readonly keys: readonly string[]; readonly done: ReadDone }[] = [];
  private scheduled = false;
  /** Calls made and reads they carried, for tests and status. */
  calls = 0;
  reads = 0;

  constructor(
    private readonly replicaId: string,
    private readonly call: ReadCall,
    private readonly timers: Pick<Timers, "soon">,
  ) {}

  read(keys: readonly string[], done: ReadDone): void {
    this.waiting.push({ keys, done });
    if (this.scheduled) return;
    this.scheduled = true;
    this.timers.soon(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const reads = this.waiting;
    this.waiting = [];
    let batch: typeof reads = [];
    let keys = new Set<string>();
    for (const read of reads) {
      const added = read.keys.filter((key) => !keys.has(key)).length;
      if (batch.length > 0 && keys.size + added > limits.keysPerReadMax) {
        this.send(batch, keys);
        batch = [];
        keys = new Set();
      }
      batch.push(read);
      for (const key of read.keys) keys.add(key);
    }
    if (batch.length > 0) this.send(batch, keys);
  }

  private send(batch: readonly { readonly keys: readonly string[]; readonly done: ReadDone }[], keys: ReadonlySet<string>): void {
    this.calls += 1;
    this.reads += batch.length;
    this.call([...keys], (result) => {
      if (!result.ok) {
        const alone = batch.length > 1 && result.code === Code.UNAVAILABLE;
        for (const read of batch) {
          if (alone) this.call(read.keys, read.done);
          else read.done(result);
        }
        return;
      }
      const rows = new Map(result.value.map((row) => [row.key, row]));
      for (const read of batch) {
        const own = read.keys.map((key) => rows.get(key));
        if (own.every((row): row is ReadRow => row !== undefined)) read.done({ ok: true, value: own });
        else read.done({ ok: false, code: Code.UNAVAILABLE, reason: `replica ${this.replicaId} answered a read without some of the keys it was asked` });
      }
    });
  }
}
