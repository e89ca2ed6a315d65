import { createHash } from "node:crypto";
import { type Collection, DuplicateKeyError } from "../../shared/db/index.ts";
import { AppError } from "../../shared/errors.ts";
import type { IdempotencyDoc } from "./model.ts";

/** Keys are kept at least 24 hours; the purge removes them after two days. */
const KEEP_MS = 48 * 60 * 60 * 1000;
const RACE_WAIT_MS = 10_000;

export interface StoredResponse<T> {
  status: number;
  body: T;
}

export function requestHash(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex");
}

/**
 * Runs an operation once per (user, Idempotency-Key). The first request claims the key with a unique
 * insert; a replay, or a request racing the first, waits for and answers the first response.
 */
export class IdempotencyStore {
  private readonly keys: Collection<IdempotencyDoc>;

  constructor(keys: Collection<IdempotencyDoc>) {
    this.keys = keys;
  }

  async run<T>(
    userId: string,
    key: string,
    hash: string,
    operation: () => Promise<StoredResponse<T>>,
  ): Promise<StoredResponse<T>> {
    const id = `${userId}:${key}`;
    const deadline = Date.now() + RACE_WAIT_MS;
    while (!(await this.claim(id, hash))) {
      const first = await this.keys.findOne({ _id: id });
      if (first && first.requestHash !== hash) throw new AppError("IDEMPOTENCY_KEY_REUSED");
      if (first?.state === "done") return { status: first.status!, body: JSON.parse(first.body!) as T };
      if (Date.now() > deadline) {
        throw new AppError(
          "SERVICE_UNAVAILABLE",
          "The first request with this Idempotency-Key has not finished; retry",
        );
      }
      // The first request is still at work (or failed and released the key: the next claim takes it).
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    try {
      const response = await operation();
      await this.keys.updateOne(
        { _id: id },
        { $set: { state: "done", status: response.status, body: JSON.stringify(response.body) } },
      );
      return response;
    } catch (error) {
      // Nothing was stored: release the key so that a retry can do the work.
      await this.keys.deleteOne({ _id: id });
      throw error;
    }
  }

  private async claim(id: string, hash: string): Promise<boolean> {
    try {
      await this.keys.insert({
        _id: id,
        requestHash: hash,
        state: "pending",
        status: null,
        body: null,
        createdAt: new Date(),
      });
      return true;
    } catch (error) {
      if (error instanceof DuplicateKeyError) return false;
      throw error;
    }
  }

  purgeExpired(now = Date.now()): Promise<number> {
    return this.keys.deleteMany({ createdAt: { $lt: new Date(now - KEEP_MS) } });
  }
}
