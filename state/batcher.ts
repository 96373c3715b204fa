/**
 * Group commit for the request path: items submitted while earlier batches are in flight
 * are gathered and handed to `run` together, so N concurrent requests cost one database
 * transaction instead of N. A lone request goes out at once (on the next event-loop
 * turn), so light traffic pays no extra latency. Each submitter is answered only after
 * its batch has committed.
 */
import { DbUnavailableError } from './db';

export interface BatcherProps<I, O> {
  /** Processes items in one transaction; returns one result per item, in order. */
  readonly run: (items: readonly I[]) => Promise<O[]>;
  /** Most items per batch. Default: 100. */
  readonly maxBatch?: number;
  /** Most batches in flight at once (each holds a connection). Default: 4. */
  readonly maxInFlight?: number;
}

interface Pending<I, O> {
  readonly item: I;
  readonly resolve: (o: O) => void;
  readonly reject: (e: unknown) => void;
}

export class Batcher<I, O> {
  private readonly queue: Pending<I, O>[] = [];
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private inFlight = 0;
  private scheduled = false;

  constructor(private readonly props: BatcherProps<I, O>) {
    this.maxBatch = props.maxBatch ?? 100;
    this.maxInFlight = props.maxInFlight ?? 4;
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
        void this.flush(this.queue.splice(0, this.maxBatch));
      }
    });
  }

  private async flush(batch: Pending<I, O>[]): Promise<void> {
    this.inFlight++;
    try {
      const results = await this.props.run(batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(results[i]!));
    } catch (err) {
      if (err instanceof DbUnavailableError || batch.length === 1) {
        batch.forEach((p) => p.reject(err));
      } else {
        // One item's failure (or a deadlock between batches) must not fail the others:
        // retry each alone, so each gets its own answer.
        await Promise.all(batch.map(async (p) => {
          try {
            p.resolve((await this.props.run([p.item]))[0]!);
          } catch (e) {
            p.reject(e);
          }
        }));
      }
    } finally {
      this.inFlight--;
      this.schedule();
    }
  }
}
