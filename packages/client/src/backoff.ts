/** Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"). */
export interface BackoffOptions {
  /** Upper bound of the first wait; default `DEFAULT_BACKOFF_INITIAL_MS`. */
  initialMs?: number;
  /** Upper bound of any wait; default `DEFAULT_BACKOFF_MAX_MS`. */
  maxMs?: number;
}

export const DEFAULT_BACKOFF_INITIAL_MS = 100;
export const DEFAULT_BACKOFF_MAX_MS = 10_000;

/** The wait before retry number `attempt` (0-based): uniform in [0, min(max, initial·2^attempt)]. */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const initial = options.initialMs ?? DEFAULT_BACKOFF_INITIAL_MS;
  const max = options.maxMs ?? DEFAULT_BACKOFF_MAX_MS;
  return Math.floor(random() * Math.min(max, initial * 2 ** Math.min(attempt, 30)));
}
