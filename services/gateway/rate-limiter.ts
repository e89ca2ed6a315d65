import { retryAfterSeconds, windowOf } from "../../shared/domain/throttle.ts";

const WINDOW_MS = 60_000;

/**
 * Per-key request counts in one-minute windows, in this gateway's memory. With several gateway
 * replicas each enforces the limit on the requests it sees.
 */
export class RateLimiter {
  private readonly limit: number;
  private windowIndex = -1;
  private counts = new Map<string, number>();

  constructor(limitPerMinute: number) {
    this.limit = limitPerMinute;
  }

  /** Counts the request; returns seconds to wait when over the limit, else null. */
  take(key: string, now = Date.now()): number | null {
    if (this.limit === 0) return null;
    const window = windowOf(now, WINDOW_MS);
    if (window.index !== this.windowIndex) {
      this.windowIndex = window.index;
      this.counts = new Map();
    }
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count);
    return count > this.limit ? retryAfterSeconds(now, window) : null;
  }
}
