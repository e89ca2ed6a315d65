import { createHash } from "node:crypto";
import type { Collection } from "../../shared/db/index.ts";
import { DuplicateKeyError } from "../../shared/db/index.ts";
import { newId } from "../../shared/ids.ts";
import { notificationsSent, webhookAttempts } from "../../shared/ops/metrics.ts";
import type { DeliveryAttemptDoc, DeliveryDoc, NotificationDoc, WebhookDoc } from "./model.ts";
import { sendWebhook, type SendResult } from "./webhook-sender.ts";

/** Attempts per delivery in all (the first one and five retries). */
export const MAX_ATTEMPTS = 6;
export const ATTEMPT_TIMEOUT_MS = 5000;
const POLL_INTERVAL_MS = 250;
const MAX_IN_FLIGHT = 16;
/** A claimed attempt with no outcome after this long was cut short by a crash: it counts as failed. */
const STALE_CLAIM_MS = 30_000;
const MAX_BACKOFF_MS = 3_600_000;

/** One delivery per notification and webhook: the id is derived from both (and sorts by the notification). */
export function deliveryIdOf(notificationId: string, webhookId: string): string {
  const digest = createHash("sha256").update(`${notificationId}:${webhookId}`).digest("hex");
  return notificationId.slice(0, 12) + digest.slice(0, 20);
}

/** Exponential backoff with full jitter: after the n-th failed attempt, wait uniformly in [0, base·2^(n−1)). */
export function backoffMs(
  failedAttempts: number,
  baseMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, failedAttempts - 1));
  return Math.floor(random() * ceiling);
}

/** The JSON body of every attempt of a delivery: `{id, type, createdAt, data}` of the notification. */
export function webhookBody(notification: NotificationDoc): string {
  return JSON.stringify({
    id: notification._id,
    type: notification.type,
    createdAt: notification.createdAt.toISOString(),
    data: notification.data,
  });
}

export interface DispatcherOptions {
  deliveries: Collection<DeliveryDoc>;
  attempts: Collection<DeliveryAttemptDoc>;
  webhooks: Collection<WebhookDoc>;
  allowPrivate: boolean;
  retryBaseMs: number;
  warn: (message: string, detail: string) => void;
}

/**
 * Durable webhook deliveries: each is a document with its state, sent by a poller in every replica of
 * the service. An attempt is claimed by inserting `<deliveryId>:<attempt>` (the same id cannot be
 * inserted twice), so no attempt is sent twice, and the claim is the attempt's log entry.
 */
export class WebhookDispatcher {
  private readonly options: DispatcherOptions;
  private readonly inFlight = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private scanning = false;
  private stopping = false;

  constructor(options: DispatcherOptions) {
    this.options = options;
  }

  start(): void {
    this.timer = setInterval(() => void this.scan(), POLL_INTERVAL_MS);
    this.timer.unref();
  }

  /** Stops polling and waits for the attempts in flight (each ends within its timeout). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Creates the notification's deliveries (once each, however often it is called) and sends them soon. */
  async enqueue(notification: NotificationDoc, hooks: WebhookDoc[]): Promise<void> {
    const now = new Date();
    for (const hook of hooks) {
      try {
        await this.options.deliveries.insert({
          _id: deliveryIdOf(notification._id, hook._id),
          userId: notification.userId,
          webhookId: hook._id,
          notificationId: notification._id,
          type: notification.type,
          body: webhookBody(notification),
          state: "pending",
          attempts: 0,
          nextAttemptAt: now,
          createdAt: now,
          updatedAt: now,
        });
      } catch (error) {
        if (!(error instanceof DuplicateKeyError)) throw error;
      }
    }
    if (hooks.length > 0) setImmediate(() => void this.scan());
  }

  private async scan(): Promise<void> {
    if (this.scanning || this.stopping) return;
    const room = MAX_IN_FLIGHT - this.inFlight.size;
    if (room <= 0) return;
    this.scanning = true;
    try {
      const due = await this.options.deliveries.find(
        { state: "pending", nextAttemptAt: { $lte: new Date() } },
        { sort: { nextAttemptAt: 1 }, limit: room + this.inFlight.size },
      );
      for (const delivery of due) {
        if (this.inFlight.size >= MAX_IN_FLIGHT) break;
        if (this.inFlight.has(delivery._id)) continue;
        const run = this.attempt(delivery)
          .catch((error: unknown) => this.options.warn("webhook attempt failed to run", String(error)))
          .finally(() => this.inFlight.delete(delivery._id));
        this.inFlight.set(delivery._id, run);
      }
    } catch (error) {
      this.options.warn("webhook poll failed", String(error));
    } finally {
      this.scanning = false;
    }
  }

  private async attempt(delivery: DeliveryDoc): Promise<void> {
    const { attempts, webhooks, deliveries } = this.options;
    const number = delivery.attempts + 1;
    const claimId = `${delivery._id}:${number}`;
    try {
      await attempts.insert({
        _id: claimId,
        seq: newId(),
        deliveryId: delivery._id,
        webhookId: delivery.webhookId,
        userId: delivery.userId,
        notificationId: delivery.notificationId,
        type: delivery.type,
        attempt: number,
        outcome: "pending",
        statusCode: null,
        durationMs: null,
        error: null,
        createdAt: new Date(),
      });
    } catch (error) {
      if (error instanceof DuplicateKeyError) return this.resumeClaimed(delivery, claimId, number);
      throw error;
    }
    const hook = await webhooks.findOne({ _id: delivery.webhookId });
    if (!hook) {
      // The webhook was deleted after this delivery was read: nothing to send.
      await attempts.deleteOne({ _id: claimId });
      await deliveries.deleteOne({ _id: delivery._id });
      return;
    }
    const result: SendResult = await sendWebhook({
      url: hook.url,
      deliveryId: delivery._id,
      body: delivery.body,
      secret: hook.secret,
      timeoutMs: ATTEMPT_TIMEOUT_MS,
      allowPrivate: this.options.allowPrivate,
    });
    webhookAttempts.inc({ outcome: result.outcome });
    await attempts.updateOne(
      { _id: claimId },
      {
        $set: {
          outcome: result.outcome,
          statusCode: result.statusCode,
          durationMs: result.durationMs,
          error: result.error,
        },
      },
    );
    await this.settle(delivery, claimId, number, result.outcome === "success");
  }

  /**
   * The attempt was claimed before: by another poller that is still at it (leave it), by one that finished
   * the attempt but crashed before updating the delivery (apply its outcome), or by one that crashed
   * mid-request (after STALE_CLAIM_MS the attempt counts as failed).
   */
  private async resumeClaimed(delivery: DeliveryDoc, claimId: string, number: number): Promise<void> {
    const claim = await this.options.attempts.findOne({ _id: claimId });
    if (!claim) return;
    if (claim.outcome === "pending") {
      if (Date.now() - new Date(claim.createdAt).getTime() < STALE_CLAIM_MS) return;
      const marked = await this.options.attempts.updateOne(
        { _id: claimId, outcome: "pending" },
        { $set: { outcome: "failure", error: "interrupted before an answer" } },
      );
      if (marked === 0) return;
      webhookAttempts.inc({ outcome: "failure" });
      await this.settle(delivery, claimId, number, false);
      return;
    }
    const current = await this.options.deliveries.findOne({ _id: delivery._id });
    if (current && current.state === "pending" && current.attempts < number) {
      await this.settle(current, claimId, number, claim.outcome === "success");
    }
  }

  /** Records a finished attempt on the delivery: succeeded, failed for good, or due again after a backoff. */
  private async settle(delivery: DeliveryDoc, claimId: string, number: number, ok: boolean): Promise<void> {
    const now = new Date();
    const last = number >= MAX_ATTEMPTS;
    const changes: Partial<DeliveryDoc> = ok
      ? { state: "succeeded", attempts: number, updatedAt: now }
      : last
        ? { state: "failed", attempts: number, updatedAt: now }
        : {
            attempts: number,
            nextAttemptAt: new Date(now.getTime() + backoffMs(number, this.options.retryBaseMs)),
            updatedAt: now,
          };
    const updated = await this.options.deliveries.updateOne(
      { _id: delivery._id, attempts: number - 1 },
      { $set: changes },
    );
    if (updated === 0) {
      // Deleted meanwhile (webhook or account removed): drop the log entry it would orphan.
      if (!(await this.options.deliveries.findOne({ _id: delivery._id }))) {
        await this.options.attempts.deleteOne({ _id: claimId });
      }
      return;
    }
    if (ok) notificationsSent.inc({ channel: "webhook", status: "sent" });
    else if (last) notificationsSent.inc({ channel: "webhook", status: "failed" });
  }
}
