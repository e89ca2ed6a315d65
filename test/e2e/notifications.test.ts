import { expect } from "chai";
import { registerUser, type Session } from "../helpers/api.ts";
import { useStack } from "../helpers/stack.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../helpers/webhook-receiver.ts";

type ErrorBody = { error: { code: string; status: number; details?: { path: string; message: string }[] } };
interface Notification {
  id: string;
  type: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  createdAt: string;
  readAt: string | null;
}
interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
interface Settings {
  email: boolean;
  reminderTime: string;
  weeklySummary: boolean;
  types: Record<string, boolean>;
}
interface Webhook {
  id: string;
  url: string;
  events: string[];
  secret?: string;
  createdAt: string;
}
interface Attempt {
  id: string;
  notificationId: string;
  type: string;
  attempt: number;
  outcome: string;
  statusCode: number | null;
  durationMs: number | null;
}

const DAY = 86_400_000;
const dateDaysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString().slice(0, 10);
const paths = (body: ErrorBody) => body.error.details?.map((d) => d.path) ?? [];

async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("condition not met in time");
}

const ENV = { WEBHOOK_ALLOW_PRIVATE: "true", WEBHOOK_RETRY_BASE_MS: "50" };

describe("Notifications, settings and webhooks over HTTP", function () {
  this.timeout(60_000);
  const sys = useStack(ENV);
  let user: Session;
  let other: Session;
  const receivers: WebhookReceiver[] = [];
  const as = (session: Session) => ({ token: session.accessToken });
  const put = <T>(path: string, body: unknown, session: Session) =>
    sys.api.request<T>("PUT", path, { body, token: session.accessToken });

  before(async () => {
    user = await registerUser(sys.api);
    other = await registerUser(sys.api);
  });
  after(async () => {
    for (const receiver of receivers) await receiver.close();
  });

  const receiver = async (respond?: (n: number) => number) => {
    const started = await startWebhookReceiver(respond);
    receivers.push(started);
    return started;
  };

  /** A daily goal begun `days` days ago with a log on each of those days (and today when `today`). */
  const goalWithStreak = async (session: Session, title: string, days: number, today: boolean) => {
    const goal = await sys.api.post<{ id: string }>(
      "/goals",
      { pattern: "daily", title, startDate: dateDaysAgo(days) },
      as(session),
    );
    expect(goal.status).to.equal(201);
    for (let n = days; n >= (today ? 0 : 1); n -= 1) {
      const logged = await sys.api.post(
        `/goals/${goal.body.id}/activities`,
        { occurredAt: n === 0 ? new Date().toISOString() : `${dateDaysAgo(n)}T12:00:00.000Z` },
        as(session),
      );
      expect(logged.status).to.equal(201);
    }
    return goal.body.id;
  };

  const inbox = async (session: Session, query = "") =>
    (await sys.api.get<Page<Notification>>(`/notifications${query}`, as(session))).body;

  describe("GET and PUT /me/notification-settings", () => {
    it("answers the defaults before anything was set: email on, 20:00, weekly summary on, every type on", async () => {
      const response = await sys.api.get<Settings>("/me/notification-settings", as(other));
      expect(response.status).to.equal(200);
      expect(response.body).to.deep.equal({
        email: true,
        reminderTime: "20:00",
        weeklySummary: true,
        types: {
          "goal.completed": true,
          "streak.milestone": true,
          "streak.at_risk": true,
          "streak.broken": true,
          "weekly.summary": true,
        },
      });
    });

    it("replaces the settings; types left out of `types` keep their setting", async () => {
      const fresh = await registerUser(sys.api);
      const first = await put<Settings>(
        "/me/notification-settings",
        { email: false, reminderTime: "07:45", weeklySummary: false, types: { "streak.broken": false } },
        fresh,
      );
      expect(first.status).to.equal(200);
      expect(first.body).to.include({ email: false, reminderTime: "07:45", weeklySummary: false });
      expect(first.body.types).to.include({ "streak.broken": false, "goal.completed": true });
      const second = await put<Settings>(
        "/me/notification-settings",
        { email: true, reminderTime: "21:00", weeklySummary: true, types: { "weekly.summary": false } },
        fresh,
      );
      expect(second.body.types).to.deep.equal({
        "goal.completed": true,
        "streak.milestone": true,
        "streak.at_risk": true,
        "streak.broken": false,
        "weekly.summary": false,
      });
      const read = await sys.api.get<Settings>("/me/notification-settings", as(fresh));
      expect(read.body).to.deep.equal(second.body);
    });

    it("refuses unknown types, bad times, missing fields and unknown properties (422)", async () => {
      const valid = { email: true, reminderTime: "20:00", weeklySummary: true, types: {} };
      const cases: [Record<string, unknown>, string][] = [
        [{ ...valid, types: { "streak.exploded": true } }, "/types/streak.exploded"],
        [{ ...valid, types: { "goal.completed": "yes" } }, "/types/goal.completed"],
        [{ ...valid, reminderTime: "24:00" }, "/reminderTime"],
        [{ ...valid, reminderTime: "8:00" }, "/reminderTime"],
        [{ email: true, reminderTime: "20:00", types: {} }, "/weeklySummary"],
        [{ ...valid, sms: true }, "/sms"],
      ];
      for (const [body, path] of cases) {
        const response = await put<ErrorBody>("/me/notification-settings", body, user);
        expect(response.status, JSON.stringify(body)).to.equal(422);
        expect(response.body.error.code).to.equal("VALIDATION_ERROR");
        expect(paths(response.body), JSON.stringify(body)).to.include(path);
      }
      expect((await sys.api.get<Settings>("/me/notification-settings", as(user))).body.reminderTime).to.equal(
        "20:00",
      );
    });

    it("needs a token", async () => {
      expect((await sys.api.get("/me/notification-settings")).status).to.equal(401);
      expect((await sys.api.get("/notifications")).status).to.equal(401);
      expect((await sys.api.get("/webhooks")).status).to.equal(401);
    });
  });

  describe("webhooks", () => {
    it("creates a webhook (201) and shows its secret only then", async () => {
      const hooked = await receiver();
      const created = await sys.api.post<Webhook>(
        "/webhooks",
        { url: hooked.url, events: ["goal.completed"] },
        as(user),
      );
      expect(created.status).to.equal(201);
      expect(created.headers.get("location")).to.equal(`/api/v1/webhooks/${created.body.id}`);
      expect(created.body).to.include({ url: hooked.url });
      expect(created.body.events).to.deep.equal(["goal.completed"]);
      expect(created.body.secret).to.match(/^whsec_[A-Za-z0-9_-]{40,}$/);
      const listed = await sys.api.get<Page<Webhook>>("/webhooks", as(user));
      expect(listed.status).to.equal(200);
      const mine = listed.body.items.find((hook) => hook.id === created.body.id);
      expect(mine).to.deep.equal({
        id: created.body.id,
        url: hooked.url,
        events: ["goal.completed"],
        createdAt: created.body.createdAt,
      });
      expect(listed.text).to.not.contain(created.body.secret!);
      expect((await sys.api.get<Page<Webhook>>("/webhooks", as(other))).body.items).to.have.length(0);
    });

    it("validates the URL and the events (422)", async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ url: "ftp://example.test/hook", events: ["goal.completed"] }, "/url"],
        [{ url: "not a url", events: ["goal.completed"] }, "/url"],
        [{ url: "http://user:secret@127.0.0.1/hook", events: ["goal.completed"] }, "/url"],
        [{ url: "http://127.0.0.1/hook", events: [] }, "/events"],
        [{ url: "http://127.0.0.1/hook", events: ["goal.exploded"] }, "/events/0"],
        [{ url: "http://127.0.0.1/hook", events: ["goal.completed", "goal.completed"] }, "/events"],
        [{ url: "http://127.0.0.1/hook" }, "/events"],
        [{ url: "http://127.0.0.1/hook", events: ["goal.completed"], secret: "mine" }, "/secret"],
      ];
      for (const [body, path] of cases) {
        const response = await sys.api.post<ErrorBody>("/webhooks", body, as(user));
        expect(response.status, JSON.stringify(body)).to.equal(422);
        expect(response.body.error.code).to.equal("VALIDATION_ERROR");
        expect(paths(response.body), JSON.stringify(body)).to.include(path);
      }
    });

    it("answers 404 for another user's webhook, and deletes one's own (204)", async () => {
      const hooked = await receiver();
      const created = await sys.api.post<Webhook>(
        "/webhooks",
        { url: hooked.url, events: ["streak.broken"] },
        as(user),
      );
      const id = created.body.id;
      for (const response of [
        await sys.api.get<ErrorBody>(`/webhooks/${id}/deliveries`, as(other)),
        await sys.api.delete<ErrorBody>(`/webhooks/${id}`, as(other)),
      ]) {
        expect(response.status).to.equal(404);
        expect(response.body.error.code).to.equal("NOT_FOUND");
      }
      expect((await sys.api.get(`/webhooks/${id}/deliveries`, as(user))).status).to.equal(200);
      const removed = await sys.api.delete(`/webhooks/${id}`, as(user));
      expect(removed.status).to.equal(204);
      expect(removed.text).to.equal("");
      expect((await sys.api.delete(`/webhooks/${id}`, as(user))).status).to.equal(404);
      expect((await sys.api.get(`/webhooks/${id}/deliveries`, as(user))).status).to.equal(404);
      const listed = await sys.api.get<Page<Webhook>>("/webhooks", as(user));
      expect(listed.body.items.map((hook) => hook.id)).to.not.include(id);
    });
  });

  describe("from a streak milestone to the inbox and a signed webhook", () => {
    let milestoneUser: Session;
    let hooked: WebhookReceiver;
    let hook: Webhook;
    let goalId: string;
    let notification: Notification;

    before(async () => {
      milestoneUser = await registerUser(sys.api);
      // Answers 500 once, then 200: the retry shows in the deliveries.
      hooked = await receiver((n) => (n === 1 ? 500 : 200));
      hook = (
        await sys.api.post<Webhook>(
          "/webhooks",
          { url: hooked.url, events: ["streak.milestone"] },
          as(milestoneUser),
        )
      ).body;
      hooked.secret = hook.secret!;
      goalId = await goalWithStreak(milestoneUser, "Drink water", 2, true);
      await eventually(async () =>
        (await inbox(milestoneUser)).items.some((n) => n.type === "streak.milestone"),
      );
      notification = (await inbox(milestoneUser)).items.find((n) => n.type === "streak.milestone")!;
    });

    it("lists the notification of the 3-day milestone, about the goal, unread", () => {
      expect(notification).to.include({ type: "streak.milestone", readAt: null });
      expect(notification.title).to.contain("Drink water");
      expect(notification.data).to.include({ goalId, milestone: 3 });
    });

    it("POSTs it to the webhook, signed, and retries after a 500 with the same delivery id", async () => {
      await eventually(() => hooked.received.length === 2);
      expect(hooked.received.every((request) => request.signatureValid)).to.equal(true);
      expect(JSON.parse(hooked.received[1]!.body)).to.deep.equal({
        id: notification.id,
        type: "streak.milestone",
        createdAt: notification.createdAt,
        data: notification.data,
      });
      const deliveryId = hooked.received[0]!.headers["x-webhook-id"];
      expect(hooked.received[1]!.headers["x-webhook-id"]).to.equal(deliveryId);
      let attempts: Attempt[] = [];
      await eventually(async () => {
        attempts = (await sys.api.get<Page<Attempt>>(`/webhooks/${hook.id}/deliveries`, as(milestoneUser)))
          .body.items;
        return attempts.some((attempt) => attempt.outcome === "success");
      });
      expect(attempts.map((a) => [a.attempt, a.outcome, a.statusCode])).to.deep.equal([
        [2, "success", 200],
        [1, "failure", 500],
      ]);
      expect(attempts.every((a) => a.id === deliveryId && a.notificationId === notification.id)).to.equal(
        true,
      );
      expect(attempts[0]!.durationMs).to.be.a("number");
    });

    it("marks one read (404 for another user's or an unknown id), filters unread, marks all read", async () => {
      const foreign = await sys.api.post<ErrorBody>(
        `/notifications/${notification.id}/read`,
        undefined,
        as(other),
      );
      expect(foreign.status).to.equal(404);
      expect(foreign.body.error.code).to.equal("NOT_FOUND");
      expect(
        (await sys.api.post(`/notifications/0000unknown/read`, undefined, as(milestoneUser))).status,
      ).to.equal(404);
      const read = await sys.api.post<Notification>(
        `/notifications/${notification.id}/read`,
        undefined,
        as(milestoneUser),
      );
      expect(read.status).to.equal(200);
      expect(read.body.id).to.equal(notification.id);
      expect(read.body.readAt).to.be.a("string");
      expect((await inbox(milestoneUser, "?unread=true")).items.map((n) => n.id)).to.not.include(
        notification.id,
      );
      expect((await inbox(milestoneUser, "?unread=false")).items.map((n) => n.id)).to.include(
        notification.id,
      );
      const all = await sys.api.post<{ updated: number }>(
        "/notifications/read-all",
        undefined,
        as(milestoneUser),
      );
      expect(all.status).to.equal(200);
      expect(all.body.updated).to.equal((await inbox(milestoneUser)).items.length - 1);
      expect((await inbox(milestoneUser, "?unread=true")).items).to.have.length(0);
      const again = await sys.api.post<{ updated: number }>(
        "/notifications/read-all",
        undefined,
        as(milestoneUser),
      );
      expect(again.body).to.deep.equal({ updated: 0 });
    });

    it("pages with limit and cursor, newest first, and refuses a bad query (400)", async () => {
      const everything = (await inbox(milestoneUser, "?limit=100")).items;
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Page<Notification> = await inbox(
          milestoneUser,
          `?limit=1${cursor ? `&cursor=${cursor}` : ""}`,
        );
        expect(page.items.length).to.be.at.most(1);
        seen.push(...page.items.map((n) => n.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).to.deep.equal(everything.map((n) => n.id));
      expect(seen).to.deep.equal([...seen].sort().reverse());
      expect((await sys.api.get("/notifications?limit=0", as(milestoneUser))).status).to.equal(400);
      expect((await sys.api.get("/notifications?unread=maybe", as(milestoneUser))).status).to.equal(400);
    });
  });

  describe("at-risk reminders through the admin job route", () => {
    it("reminds once per goal and day after the reminder time; a second run changes nothing", async () => {
      const admin = await registerUser(sys.api, { email: "admin@example.test" });
      const atRisk = await registerUser(sys.api);
      const goalId = await goalWithStreak(atRisk, "Read 20 pages", 2, false);
      await put(
        "/me/notification-settings",
        { email: false, reminderTime: "00:00", weeklySummary: true, types: {} },
        atRisk,
      );
      const first = await sys.api.post<{ processed: number }>(
        "/admin/jobs/at-risk-reminders/run",
        undefined,
        as(admin),
      );
      // (processed is not asserted: the stack's own scheduler may have sent it a moment before.)
      expect(first.status).to.equal(200);
      const reminders = (await inbox(atRisk)).items.filter((n) => n.type === "streak.at_risk");
      expect(reminders).to.have.length(1);
      expect(reminders[0]!.data).to.include({ goalId, current: 2, date: dateDaysAgo(0) });
      const second = await sys.api.post<{ processed: number }>(
        "/admin/jobs/at-risk-reminders/run",
        undefined,
        as(admin),
      );
      expect(second.body.processed).to.equal(0);
      expect((await inbox(atRisk)).items.filter((n) => n.type === "streak.at_risk")).to.have.length(1);
    });
  });
});
