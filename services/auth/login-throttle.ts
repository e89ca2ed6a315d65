import type { Collection } from "../../shared/db/index.ts";
import { retryAfterSeconds, windowOf } from "../../shared/domain/throttle.ts";
import type { LoginFailureDoc } from "./model.ts";

const WINDOW_MS = 15 * 60 * 1000;
export const MAX_FAILURES_PER_EMAIL = 10;
export const MAX_FAILURES_PER_ADDRESS = 100;

/**
 * Counts failed logins per email and per client address in 15-minute windows, in the database so that
 * every replica of the auth service sees the same counts.
 */
export class LoginThrottle {
  private readonly failures: Collection<LoginFailureDoc>;

  constructor(failures: Collection<LoginFailureDoc>) {
    this.failures = failures;
  }

  private keys(email: string, address: string, now: number): { email: string; address: string } {
    const { index } = windowOf(now, WINDOW_MS);
    return { email: `email:${email}:${index}`, address: `ip:${address}:${index}` };
  }

  /** Seconds to wait when either limit is reached, else null. */
  async blockedFor(email: string, address: string, now = Date.now()): Promise<number | null> {
    const keys = this.keys(email, address, now);
    const [byEmail, byAddress] = await Promise.all([
      this.failures.findOne({ _id: keys.email }),
      this.failures.findOne({ _id: keys.address }),
    ]);
    const blocked =
      (byEmail?.count ?? 0) >= MAX_FAILURES_PER_EMAIL || (byAddress?.count ?? 0) >= MAX_FAILURES_PER_ADDRESS;
    return blocked ? retryAfterSeconds(now, windowOf(now, WINDOW_MS)) : null;
  }

  async recordFailure(email: string, address: string, now = Date.now()): Promise<void> {
    const keys = this.keys(email, address, now);
    const expiresAt = new Date(windowOf(now, WINDOW_MS).endsAt);
    await Promise.all(
      [keys.email, keys.address].map((key) =>
        this.failures.updateOne({ _id: key }, { $inc: { count: 1 }, $set: { expiresAt } }, { upsert: true }),
      ),
    );
  }

  async purgeExpired(now = new Date()): Promise<number> {
    return this.failures.deleteMany({ expiresAt: { $lt: now } });
  }
}
