/** Fixed-window counting for rate limits: pure arithmetic on instants. */

export interface Window {
  /** Identifies the window: the same for every instant inside it. */
  index: number;
  endsAt: number;
}

export function windowOf(now: number, lengthMs: number): Window {
  const index = Math.floor(now / lengthMs);
  return { index, endsAt: (index + 1) * lengthMs };
}

/** Whole seconds to wait, at least 1, so that a client never retries inside the window it was refused in. */
export function retryAfterSeconds(now: number, window: Window): number {
  return Math.max(1, Math.ceil((window.endsAt - now) / 1000));
}
