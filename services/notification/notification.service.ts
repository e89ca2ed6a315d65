import { randomBytes } from "node:crypto";
import type { ServiceBroker, ServiceSchema } from "moleculer";
import {
  MAX_WEBHOOKS_PER_USER,
  type NotificationType,
  notificationRoutes,
  webhookRoutes,
} from "../../shared/api/notifications.ts";
import { actionParamsSchema } from "../../shared/api/route.ts";
import type { ChannelPayloads, GoalState } from "../../shared/bus/channels.ts";
import type { RequestContext } from "../../shared/context.ts";
import { type Collection, DuplicateKeyError } from "../../shared/db/index.ts";
import type { LocalDate } from "../../shared/domain/goal-types.ts";
import { AppError } from "../../shared/errors.ts";
import { newId } from "../../shared/ids.ts";
import { healthMixin } from "../../shared/mixins.ts";
import { jobItemsProcessed, notificationsSent } from "../../shared/ops/metrics.ts";
import type { ServiceDeps } from "../../shared/runtime-types.ts";
import { allUsers, type UserRow, type UserSettings } from "../../shared/user-settings.ts";
import { RefusedTarget, resolveTarget } from "./address-guard.ts";
import { WebhookDispatcher } from "./deliveries.ts";
import { createMailer } from "./mailer.ts";
import {
  atRiskContent,
  brokenContent,
  completedContent,
  type Content,
  milestoneContent,
  type WeekFigures,
  weeklySummaryContent,
} from "./messages.ts";
import {
  type DeliveryAttemptDoc,
  deliveries,
  deliveryAttempts,
  type DeliveryDoc,
  type NotificationDoc,
  type NotificationKeyDoc,
  notificationKeys,
  notifications,
  notificationSettings,
  type NotificationSettingsDoc,
  type WebhookDoc,
  webhooks,
} from "./model.ts";
import { reminderState, weeklySummaryDue } from "./schedule.ts";
import {
  applySettings,
  type NotificationSettings,
  type NotificationSettingsInput,
  settingsView,
} from "./settings.ts";

const GROUP = "notification";
/** Longer than the SMTP transport's timeouts add up to (10 s + 10 s + 30 s). */
const MAIL_CLAIM_STALE_MS = 90_000;

type Contact = Pick<UserSettings, "email" | "displayName">;

interface GoalSummary {
  id: string;
  title: string;
}

function cursorOf(id: string): string {
  return Buffer.from(id).toString("base64url");
}

function idFromCursor(cursor: string): string {
  return Buffer.from(cursor, "base64url").toString();
}

function notificationView(doc: NotificationDoc) {
  return {
    id: doc._id,
    type: doc.type,
    title: doc.title,
    body: doc.body,
    data: doc.data ?? {},
    createdAt: new Date(doc.createdAt).toISOString(),
    readAt: doc.readAt ? new Date(doc.readAt).toISOString() : null,
  };
}

function webhookView(doc: WebhookDoc) {
  return { id: doc._id, url: doc.url, events: doc.events, createdAt: new Date(doc.createdAt).toISOString() };
}

function attemptView(doc: DeliveryAttemptDoc) {
  return {
    id: doc.deliveryId,
    notificationId: doc.notificationId,
    type: doc.type,
    attempt: doc.attempt,
    outcome: doc.outcome,
    statusCode: doc.statusCode ?? null,
    durationMs: doc.durationMs ?? null,
    error: doc.error ?? null,
    createdAt: new Date(doc.createdAt).toISOString(),
  };
}

/**
 * The in-app inbox, email and signed webhooks with durable retries; at-risk reminders and weekly
 * summaries for the scheduler. Owns `notifications`, `notification_keys`, `notification_settings`,
 * `webhooks`, `deliveries` and `delivery_attempts`. Every notification exists once per once-only key,
 * however many times its triggering event arrives.
 */
export default function notificationService(deps: ServiceDeps): ServiceSchema {
  const { config, storage, bus } = deps;
  const retryBaseMs = deps.config.webhookRetryBaseMs;
  const mailer = createMailer(config.smtpUrl, config.dataDir);
  let broker: ServiceBroker;
  let inbox: Collection<NotificationDoc>;
  let keys: Collection<NotificationKeyDoc>;
  let settingsStore: Collection<NotificationSettingsDoc>;
  let hookStore: Collection<WebhookDoc>;
  let deliveryStore: Collection<DeliveryDoc>;
  let attemptStore: Collection<DeliveryAttemptDoc>;
  let dispatcher: WebhookDispatcher;

  const userIdOf = (ctx: RequestContext<unknown>): string => {
    const id = ctx.meta.user?.id;
    if (!id) throw new AppError("UNAUTHORIZED");
    return id;
  };

  async function settingsOf(userId: string): Promise<NotificationSettings> {
    return settingsView(await settingsStore.findOne({ _id: userId }));
  }

  /** The user's email and name; null when the account is gone (its notifications go with it). */
  async function contactOf(userId: string): Promise<Contact | null> {
    try {
      return await broker.call<UserSettings, { userId: string }>("auth.settings", { userId });
    } catch (error) {
      if ((error as { type?: string }).type === "UNAUTHORIZED") return null;
      throw error;
    }
  }

  async function goalTitle(userId: string, goalId: string): Promise<string | null> {
    const found = await broker.call<GoalSummary[], object>("goals.summaries", { userId, goalIds: [goalId] });
    return found[0]?.title ?? null;
  }

  /**
   * Claims the mail of a notification: `mail:<notificationId>` in the key collection, inserted once. A claim
   * that is done means sent; one still open is another handler at work (retry later), or, once older than
   * any send can take, the leftover of a crash mid-send, which this handler takes over.
   */
  async function claimMail(notification: NotificationDoc): Promise<string | null> {
    const claim = `mail:${notification._id}`;
    const insert = () =>
      keys.insert({
        _id: claim,
        userId: notification.userId,
        notificationId: notification._id,
        done: false,
        createdAt: new Date(),
      });
    try {
      await insert();
      return claim;
    } catch (error) {
      if (!(error instanceof DuplicateKeyError)) throw error;
    }
    const existing = await keys.findOne({ _id: claim });
    if (!existing || existing.done) return null;
    if (Date.now() - new Date(existing.createdAt).getTime() < MAIL_CLAIM_STALE_MS) {
      throw new Error(`the mail of notification ${notification._id} is being sent by another handler`);
    }
    await keys.deleteOne({ _id: claim, done: false });
    await insert(); // a DuplicateKeyError here: another handler took it over first, and this one retries
    return claim;
  }

  async function sendEmail(notification: NotificationDoc, contact: Contact): Promise<void> {
    const claim = await claimMail(notification);
    if (claim === null) return;
    try {
      await mailer.send({
        to: { name: contact.displayName, address: contact.email },
        subject: notification.title,
        text: `Hello ${contact.displayName},\n\n${notification.body}\n\n— Goal tracker\n\nYou get this email because email notifications are on in your notification settings.\n`,
        notificationId: notification._id,
      });
    } catch (error) {
      // Released, so that the channel's retry of the event tries the mail again.
      await keys.deleteOne({ _id: claim });
      notificationsSent.inc({ channel: "email", status: "failed" });
      throw error;
    }
    await keys.updateOne({ _id: claim }, { $set: { done: true } });
    notificationsSent.inc({ channel: "email", status: "sent" });
  }

  /**
   * Creates the notification for `key` once and hands it to every channel: stored (in-app), webhooks of the
   * type, and email when the user wants it. A retry after a failure finishes the same notification (its id
   * is kept with the key); once done, the key makes every later arrival a no-op. A type switched off in the
   * settings creates nothing. Returns whether this call created the notification.
   */
  async function notify(
    userId: string,
    type: NotificationType,
    key: string,
    compose: () => Promise<Content | null>,
    known?: { contact: Contact; settings: NotificationSettings },
  ): Promise<boolean> {
    let keyDoc = await keys.findOne({ _id: key });
    if (keyDoc?.done) {
      notificationsSent.inc({ channel: "in_app", status: "duplicate" });
      return false;
    }
    const settings = known?.settings ?? (await settingsOf(userId));
    if (!settings.types[type]) return false;
    const contact = known?.contact ?? (await contactOf(userId));
    if (!contact) return false;
    const content = await compose();
    if (!content) return false;
    if (!keyDoc) {
      const fresh: NotificationKeyDoc = {
        _id: key,
        userId,
        notificationId: newId(),
        done: false,
        createdAt: new Date(),
      };
      try {
        keyDoc = await keys.insert(fresh);
      } catch (error) {
        if (!(error instanceof DuplicateKeyError)) throw error;
        keyDoc = await keys.findOne({ _id: key });
        if (!keyDoc || keyDoc.done) {
          notificationsSent.inc({ channel: "in_app", status: "duplicate" });
          return false;
        }
      }
    }
    let created = false;
    let notification: NotificationDoc = {
      _id: keyDoc.notificationId,
      userId,
      type,
      title: content.title,
      body: content.body,
      data: content.data,
      key,
      email: settings.email,
      createdAt: new Date(),
      readAt: null,
    };
    try {
      await inbox.insert(notification);
      created = true;
      notificationsSent.inc({ channel: "in_app", status: "created" });
    } catch (error) {
      if (!(error instanceof DuplicateKeyError)) throw error;
      notification = (await inbox.findOne({ _id: keyDoc.notificationId })) ?? notification;
    }
    const hooks = await hookStore.find({ userId, events: type });
    await dispatcher.enqueue(notification, hooks);
    if (notification.email) await sendEmail(notification, contact);
    await keys.updateOne({ _id: key }, { $set: { done: true } });
    return created;
  }

  async function onGoalEvent(
    userId: string,
    goalId: string,
    type: NotificationType,
    key: string,
    compose: (title: string) => Content,
  ): Promise<void> {
    await notify(userId, type, key, async () => {
      const title = await goalTitle(userId, goalId);
      return title === null ? null : compose(title);
    });
  }

  /** A daily goal with a streak of 2 or more, not met yet after the user's reminder time: once per goal and day. */
  async function remindUser(user: UserRow, now: Date): Promise<number> {
    const settings = await settingsOf(user.id);
    if (!settings.types["streak.at_risk"]) return 0;
    const { today, due } = reminderState(now, user, settings.reminderTime);
    if (!due) return 0;
    const goals = await broker.call<GoalState[], object>("goals.statesOf", {
      userId: user.id,
      weekStart: user.weekStart,
    });
    const daily = goals.filter((goal) => goal.rules.pattern === "daily" && goal.status === "active");
    if (daily.length === 0) return 0;
    const risky = await broker.call<{ goalId: string; current: number }[], object>("streak.atRisk", {
      goals: daily,
      today,
    });
    if (risky.length === 0) return 0;
    const titles = new Map(
      (
        await broker.call<GoalSummary[], object>("goals.summaries", {
          userId: user.id,
          goalIds: risky.map((goal) => goal.goalId),
        })
      ).map((goal) => [goal.id, goal.title]),
    );
    let created = 0;
    for (const { goalId, current } of risky) {
      const title = titles.get(goalId);
      if (title === undefined) continue;
      const made = await notify(
        user.id,
        "streak.at_risk",
        `streak.at_risk:${goalId}:${today}`,
        async () => atRiskContent(title, goalId, current, today),
        { contact: user, settings },
      );
      if (made) created += 1;
    }
    return created;
  }

  /** Last week's figures on the first day of the user's week, from 08:00 local: once per user and week. */
  async function summarizeUser(user: UserRow, now: Date): Promise<number> {
    const settings = await settingsOf(user.id);
    if (!settings.weeklySummary || !settings.types["weekly.summary"]) return 0;
    const weekStartDate: LocalDate | null = weeklySummaryDue(now, user);
    if (weekStartDate === null) return 0;
    const made = await notify(
      user.id,
      "weekly.summary",
      `weekly.summary:${user.id}:${weekStartDate}`,
      async () =>
        weeklySummaryContent(
          await broker.call<WeekFigures, object>("aggregation.weekFigures", {
            userId: user.id,
            weekStartDate,
          }),
        ),
      { contact: user, settings },
    );
    return made ? 1 : 0;
  }

  /** Runs a job over every user; one user's failure is logged and does not stop the others. */
  async function forEveryUser(
    job: string,
    now: Date,
    work: (user: UserRow, now: Date) => Promise<number>,
  ): Promise<{ processed: number }> {
    let processed = 0;
    let users = 0;
    let failures = 0;
    let lastError: unknown = null;
    for await (const user of allUsers(broker)) {
      users += 1;
      try {
        processed += await work(user, now);
      } catch (error) {
        failures += 1;
        lastError = error;
        broker.logger.warn(`${job} failed for a user`, String(error));
      }
    }
    jobItemsProcessed.inc({ job }, processed);
    // A run in which every user failed (a dependency down) is a failed run, for the scheduler to report.
    if (users > 0 && failures === users) throw lastError;
    return { processed };
  }

  async function ownedWebhook(id: string, userId: string): Promise<WebhookDoc> {
    const hook = await hookStore.findOne({ _id: id, userId });
    if (!hook) throw new AppError("NOT_FOUND", "Webhook not found");
    return hook;
  }

  async function assertReachable(url: string): Promise<void> {
    try {
      await resolveTarget(new URL(url), config.webhookAllowPrivate);
    } catch (error) {
      if (!(error instanceof RefusedTarget)) throw error;
      throw new AppError("VALIDATION_ERROR", undefined, {
        details: [{ path: "/url", message: error.message }],
      });
    }
  }

  const jobParams = {
    type: "object",
    additionalProperties: false,
    properties: { now: { type: "string", format: "date-time" } },
  } as const;

  return {
    name: "notification",
    mixins: [healthMixin({ database: () => storage.ping(), bus: () => bus.ping() })],

    actions: {
      list: {
        params: actionParamsSchema(notificationRoutes.list),
        async handler(ctx: RequestContext<{ unread?: boolean; limit: number; cursor?: string }>) {
          const userId = userIdOf(ctx);
          const { unread, limit, cursor } = ctx.params;
          const filter: Record<string, unknown> = { userId };
          if (unread) filter.readAt = null;
          if (cursor) filter._id = { $lt: idFromCursor(cursor) };
          const page = await inbox.find(filter, { sort: { _id: -1 }, limit: limit + 1 });
          const items = page.slice(0, limit);
          return {
            items: items.map(notificationView),
            nextCursor: page.length > limit ? cursorOf(items[items.length - 1]!._id) : null,
          };
        },
      },

      markRead: {
        params: actionParamsSchema(notificationRoutes.markRead),
        async handler(ctx: RequestContext<{ id: string }>) {
          const userId = userIdOf(ctx);
          const found = await inbox.findOne({ _id: ctx.params.id, userId });
          if (!found) throw new AppError("NOT_FOUND", "Notification not found");
          if (found.readAt) return notificationView(found);
          const readAt = new Date();
          await inbox.updateOne({ _id: found._id, readAt: null }, { $set: { readAt } });
          return notificationView((await inbox.findOne({ _id: found._id })) ?? { ...found, readAt });
        },
      },

      markAllRead: {
        params: actionParamsSchema(notificationRoutes.markAllRead),
        async handler(ctx: RequestContext) {
          const userId = userIdOf(ctx);
          const updated = await inbox.updateMany({ userId, readAt: null }, { $set: { readAt: new Date() } });
          return { updated };
        },
      },

      getSettings: {
        params: actionParamsSchema(notificationRoutes.getSettings),
        async handler(ctx: RequestContext) {
          return settingsOf(userIdOf(ctx));
        },
      },

      putSettings: {
        params: actionParamsSchema(notificationRoutes.putSettings),
        async handler(ctx: RequestContext<NotificationSettingsInput>) {
          const userId = userIdOf(ctx);
          const current = await settingsStore.findOne({ _id: userId });
          const next = applySettings(current, ctx.params);
          await settingsStore.updateOne(
            { _id: userId },
            { $set: { ...next, updatedAt: new Date() } },
            { upsert: true },
          );
          return settingsOf(userId);
        },
      },

      createWebhook: {
        params: actionParamsSchema(webhookRoutes.create),
        async handler(ctx: RequestContext<{ url: string; events: NotificationType[] }>) {
          const userId = userIdOf(ctx);
          await assertReachable(ctx.params.url);
          if ((await hookStore.count({ userId })) >= MAX_WEBHOOKS_PER_USER) {
            throw new AppError("VALIDATION_ERROR", `At most ${MAX_WEBHOOKS_PER_USER} webhooks per user`, {
              details: [{ path: "/", message: `at most ${MAX_WEBHOOKS_PER_USER} webhooks per user` }],
            });
          }
          const now = new Date();
          const hook: WebhookDoc = {
            _id: newId(now.getTime()),
            userId,
            url: ctx.params.url,
            events: ctx.params.events,
            secret: `whsec_${randomBytes(32).toString("base64url")}`,
            createdAt: now,
          };
          await hookStore.insert(hook);
          ctx.meta.$statusCode = 201;
          ctx.meta.$location = `/api/v1/webhooks/${hook._id}`;
          return { ...webhookView(hook), secret: hook.secret };
        },
      },

      listWebhooks: {
        params: actionParamsSchema(webhookRoutes.list),
        async handler(ctx: RequestContext<{ limit: number; cursor?: string }>) {
          const userId = userIdOf(ctx);
          const { limit, cursor } = ctx.params;
          const filter: Record<string, unknown> = { userId };
          if (cursor) filter._id = { $lt: idFromCursor(cursor) };
          const page = await hookStore.find(filter, { sort: { _id: -1 }, limit: limit + 1 });
          const items = page.slice(0, limit);
          return {
            items: items.map(webhookView),
            nextCursor: page.length > limit ? cursorOf(items[items.length - 1]!._id) : null,
          };
        },
      },

      deleteWebhook: {
        params: actionParamsSchema(webhookRoutes.remove),
        async handler(ctx: RequestContext<{ id: string }>) {
          const hook = await ownedWebhook(ctx.params.id, userIdOf(ctx));
          await hookStore.deleteOne({ _id: hook._id });
          await deliveryStore.deleteMany({ webhookId: hook._id });
          await attemptStore.deleteMany({ webhookId: hook._id });
          ctx.meta.$statusCode = 204;
          return null;
        },
      },

      deliveries: {
        params: actionParamsSchema(webhookRoutes.deliveries),
        async handler(ctx: RequestContext<{ id: string; limit: number; cursor?: string }>) {
          const hook = await ownedWebhook(ctx.params.id, userIdOf(ctx));
          const { limit, cursor } = ctx.params;
          const filter: Record<string, unknown> = { webhookId: hook._id };
          if (cursor) filter.seq = { $lt: idFromCursor(cursor) };
          const page = await attemptStore.find(filter, { sort: { seq: -1 }, limit: limit + 1 });
          const items = page.slice(0, limit);
          return {
            items: items.map(attemptView),
            nextCursor: page.length > limit ? cursorOf(items[items.length - 1]!.seq) : null,
          };
        },
      },

      /** Scheduler entry (every 15 min): at-risk reminders for every user past their reminder time. */
      atRiskReminders: {
        visibility: "public",
        params: jobParams,
        async handler(ctx: RequestContext<{ now?: string }>) {
          const now = ctx.params.now ? new Date(ctx.params.now) : new Date();
          return forEveryUser("at-risk-reminders", now, remindUser);
        },
      },

      /** Scheduler entry (hourly): last week's summary for every user whose week started today. */
      weeklySummaries: {
        visibility: "public",
        params: jobParams,
        async handler(ctx: RequestContext<{ now?: string }>) {
          const now = ctx.params.now ? new Date(ctx.params.now) : new Date();
          return forEveryUser("weekly-summaries", now, summarizeUser);
        },
      },
    },

    async started() {
      broker = this.broker;
      [inbox, keys, settingsStore, hookStore, deliveryStore, attemptStore] = await Promise.all([
        storage.open(notifications),
        storage.open(notificationKeys),
        storage.open(notificationSettings),
        storage.open(webhooks),
        storage.open(deliveries),
        storage.open(deliveryAttempts),
      ]);
      dispatcher = new WebhookDispatcher({
        deliveries: deliveryStore,
        attempts: attemptStore,
        webhooks: hookStore,
        allowPrivate: config.webhookAllowPrivate,
        retryBaseMs,
        warn: (message, detail) => this.logger.warn(message, detail),
      });

      await bus.subscribe("streak.milestone", GROUP, async (event: ChannelPayloads["streak.milestone"]) => {
        await onGoalEvent(
          event.userId,
          event.goalId,
          "streak.milestone",
          `streak.milestone:${event.goalId}:${event.milestone}`,
          (title) => milestoneContent(title, event),
        );
      });
      await bus.subscribe("streak.broken", GROUP, async (event: ChannelPayloads["streak.broken"]) => {
        await onGoalEvent(
          event.userId,
          event.goalId,
          "streak.broken",
          `streak.broken:${event.goalId}:${event.lastMetDate ?? "never"}`,
          (title) => brokenContent(title, event),
        );
      });
      await bus.subscribe("goal.completed", GROUP, async (event: ChannelPayloads["goal.completed"]) => {
        await onGoalEvent(
          event.userId,
          event.goalId,
          "goal.completed",
          `goal.completed:${event.goalId}`,
          (title) => completedContent(title, event),
        );
      });
      await bus.subscribe("user.deleted", GROUP, async ({ userId }) => {
        await hookStore.deleteMany({ userId });
        await deliveryStore.deleteMany({ userId });
        await attemptStore.deleteMany({ userId });
        await inbox.deleteMany({ userId });
        await keys.deleteMany({ userId });
        await settingsStore.deleteOne({ _id: userId });
      });
      dispatcher.start();
    },

    async stopped() {
      await dispatcher?.stop();
      mailer.close();
    },
  };
}
