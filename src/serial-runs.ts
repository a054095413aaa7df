/**
 * One run of a task at a time, for work that must reflect the state as of each call: a call made
 * while a run is under way gets one more run after it (that run may have read the state before the
 * call), shared by every call made meanwhile. The checkpointer (a checkpoint of the tree as of the
 * call) and the passes of read records (every record committed before the call) run this way.
 */
export class SerialRuns<T> {
  #running: Promise<T> | undefined;
  #next: Promise<T> | undefined;

  /** `onIdle`: called when a run ends with no other to follow it. */
  constructor(
    private readonly task: () => Promise<T>,
    private readonly onIdle?: () => void,
  ) {}

  run(): Promise<T> {
    if (!this.#running) {
      this.#running = this.task().finally(() => {
        this.#running = undefined;
        if (!this.#next) this.onIdle?.();
      });
      return this.#running;
    }
    this.#next ??= this.#running
      .catch(() => undefined)
      .then(() => {
        this.#next = undefined;
        return this.run();
      });
    return this.#next;
  }
}
