/**
 * A loop a replica runs in the background until stopped, sleeping between rounds; a nudge
 * ends the sleep early. The journal applier is one, and so are the outbox forwarder and the
 * callback task loop (both state/leased-retry-loop.ts).
 */
export abstract class BackgroundLoop {
  protected running = false;
  private loop?: Promise<void>;
  private endSleep?: () => void;

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Ends the current sleep and waits for the round in progress. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
  }

  /** Rounds until `running` turns false. */
  protected abstract run(): Promise<void>;

  /** Sleeps up to `ms`; `wake()` ends it early. */
  protected sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.endSleep = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  protected wake(): void {
    this.endSleep?.();
  }
}
