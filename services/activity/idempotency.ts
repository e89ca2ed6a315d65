import { createHash } from "node:crypto";
import { type Collection, DuplicateKeyError } from "../../shared/db/index.ts";
import { AppError, ERROR_CODES, isErrorCode } from "../../shared/errors.ts";
import { newId } from "../../shared/ids.ts";
import type { IdempotencyDoc } from "./model.ts";

/** Keys are kept at least 24 hours; the purge removes them after two days. */
const KEEP_MS = 48 * 60 * 60 * 1000;
const RACE_WAIT_MS = 10_000;
/**
 * A claim still unfinished after this long belongs to a request whose process died (or that hangs): the
 * next request with the key takes it over rather than waiting forever. Safe even when the first request
 * is still at work, because both write the one resource id the claim holds, and the second insert of an
 * id fails as a duplicate. Longer than an action call's timeout (15 s), so a slow request keeps its claim.
 */
export const CLAIM_STALE_MS = 20_000;
/** `claimedAt` of a claim given back after a failure: the next request takes it over at once. */
const RELEASED = new Date(0);

export interface StoredResponse<T> {
  status: number;
  body: T;
}

/** What the request holding a key works with: the id its resource gets, the same for every retry. */
export interface Claim {
  resourceId: string;
}

export function requestHash(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex");
}

/** A refusal (4xx) is raised before anything is written: the key can go, and be used again. */
function refusedBeforeWriting(error: unknown): boolean {
  const type = (error as { type?: unknown } | null)?.type;
  return isErrorCode(type) && ERROR_CODES[type].status < 500;
}

/**
 * Runs an operation once per (user, Idempotency-Key). The first request claims the key with a unique
 * insert that also fixes the id of the resource it creates; a replay, or a request racing the first,
 * waits for and answers the first response. A request that fails after it may have written keeps the
 * resource id with the key, so a retry writes the same resource (or finds it written) and never a second.
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
    operation: (claim: Claim) => Promise<StoredResponse<T>>,
  ): Promise<StoredResponse<T>> {
    const id = `${userId}:${key}`;
    const deadline = Date.now() + RACE_WAIT_MS;
    let claim = await this.claim(id, hash);
    while (!claim) {
      const first = await this.keys.findOne({ _id: id });
      if (first && first.requestHash !== hash) throw new AppError("IDEMPOTENCY_KEY_REUSED");
      if (first?.state === "done") return { status: first.status!, body: JSON.parse(first.body!) as T };
      // Gone (refused and released meanwhile): claim it afresh. Abandoned: take it over.
      claim = first ? await this.takeOver(first) : await this.claim(id, hash);
      if (claim) break;
      if (Date.now() > deadline) {
        throw new AppError(
          "SERVICE_UNAVAILABLE",
          "The first request with this Idempotency-Key has not finished; retry",
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    try {
      const response = await operation(claim);
      await this.keys.updateOne(
        { _id: id },
        { $set: { state: "done", status: response.status, body: JSON.stringify(response.body) } },
      );
      return response;
    } catch (error) {
      // Best effort: if the database is what failed, the claim turns stale and is taken over later.
      if (refusedBeforeWriting(error)) {
        await this.keys.deleteOne({ _id: id, state: "pending" }).catch(() => undefined);
      } else {
        await this.keys
          .updateOne({ _id: id, state: "pending" }, { $set: { claimedAt: RELEASED } })
          .catch(() => undefined);
      }
      throw error;
    }
  }

  private async claim(id: string, hash: string): Promise<Claim | null> {
    const now = new Date();
    const resourceId = newId(now.getTime());
    try {
      await this.keys.insert({
        _id: id,
        requestHash: hash,
        state: "pending",
        status: null,
        body: null,
        createdAt: now,
        claimedAt: now,
        resourceId,
      });
      return { resourceId };
    } catch (error) {
      if (error instanceof DuplicateKeyError) return null;
      throw error;
    }
  }

  private async takeOver(first: IdempotencyDoc): Promise<Claim | null> {
    const claimedAt = new Date(first.claimedAt ?? first.createdAt).getTime();
    if (Date.now() - claimedAt < CLAIM_STALE_MS) return null;
    // A key claimed before resource ids were kept gets one now.
    const resourceId = first.resourceId ?? newId();
    const taken = await this.keys.updateOne(
      { _id: first._id, state: "pending" },
      { $set: { claimedAt: new Date(), resourceId } },
    );
    return taken === 1 ? { resourceId } : null;
  }

  purgeExpired(now = Date.now()): Promise<number> {
    return this.keys.deleteMany({ createdAt: { $lt: new Date(now - KEEP_MS) } });
  }
}
