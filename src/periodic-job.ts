/**
 * A background job of the service: a run after `initialDelayMs`, then one every `intervalMs` after
 * the previous run ended (runs never overlap), until stopped. The self-audit and the data
 * lifecycle run this way.
 */
export interface PeriodicJobOptions {
  /** Between runs; 0 disables the job. */
  intervalMs: number;
  /** Before the first run after start. */
  initialDelayMs: number;
  /** Called with what a run threw; the next run is scheduled all the same. */
  onError: (err: unknown) => void;
}

export class PeriodicJob {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = false;

  constructor(
    private readonly run: () => Promise<unknown>,
    private readonly options: PeriodicJobOptions,
  ) {}

  start(): void {
    if (this.options.intervalMs <= 0 || this.#stopped) return;
    this.#schedule(this.options.initialDelayMs);
  }

  /** Stops scheduling and waits for a run under way. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      this.#running = this.run()
        .catch(this.options.onError)
        .finally(() => {
          this.#running = undefined;
          if (!this.#stopped) this.#schedule(this.options.intervalMs);
        });
    }, delayMs);
    this.#timer.unref();
  }
}
