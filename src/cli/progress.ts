/**
 * A one-line progress display on standard error for the CLI's long commands (export, verify): drawn
 * only when standard error is a terminal, redrawn at most five times a second, cleared at the end so
 * the final message or report stands alone.
 */
export class ProgressLine {
  readonly #live: boolean;
  readonly #render: (seconds: number) => string;
  readonly #started = Date.now();
  #lastDraw = 0;

  /** `render` gives the line's text from the seconds elapsed. */
  constructor(render: (seconds: number) => string, live = process.stderr.isTTY === true) {
    this.#render = render;
    this.#live = live;
  }

  /** Seconds since the line was made. */
  get seconds(): number {
    return (Date.now() - this.#started) / 1000;
  }

  /** Redraws the line, unless it was drawn less than 200 ms ago. */
  update(): void {
    if (!this.#live || Date.now() - this.#lastDraw < 200) return;
    this.#lastDraw = Date.now();
    process.stderr.write(`\r\x1b[K${this.#render(this.seconds)}`);
  }

  clear(): void {
    if (this.#live) process.stderr.write('\r\x1b[K');
  }
}
