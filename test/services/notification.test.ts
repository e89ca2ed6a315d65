import { readFile } from "node:fs/promises";
import path from "node:path";
import { expect } from "chai";
import { deliveries, notificationKeys, webhooks } from "../../services/notification/model.ts";
import type { ChannelPayloads } from "../../shared/bus/channels.ts";
import type { RequestMeta } from "../../shared/context.ts";
import { newId } from "../../shared/ids.ts";
import { type ServiceHarness, startServices } from "../helpers/service-harness.ts";
import { parseHeaders, startSmtpServer, type TestSmtpServer } from "../helpers/smtp.ts";
import { deadUrl, startWebhookReceiver, type WebhookReceiver } from "../helpers/webhook-receiver.ts";

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
interface Attempt {
  id: string;
  notificationId: string;
  type: string;
  attempt: number;
  outcome: string;
  statusCode: number | null;
  durationMs: number | null;
  error: string | null;
}
interface Settings {
  email: boolean;
  reminderTime: string;
  weeklySummary: boolean;
  types: Record<string, boolean>;
}

const DAY = 86_400_000;
const utcDate = (msAgo = 0) => new Date(Date.now() - msAgo).toISOString().slice(0, 10);

async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("condition not met in time");
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Failure {
  type?: string;
  data?: { details?: { path: string }[] };
}

/** The error a call fails with, or null when it succeeds. */
async function failureOf(call: Promise<unknown>): Promise<Failure | null> {
  try {
    await call;
    return null;
  } catch (error) {
    return error as Failure;
  }
}

interface User {
  id: string;
  email: string;
  meta: RequestMeta;
}

async function registerUser(harness: ServiceHarness, label: string): Promise<User> {
  const email = `${label}-${newId().slice(-8)}@example.test`;
  const session = await harness.call<{ user: { id: string } }>("auth.register", {
    email,
    password: "password1",
    displayName: label,
  });
  return { id: session.user.id, email, meta: { user: { id: session.user.id, role: "user" } } };
}

describe("notification service (a broker of its own, real SMTP and HTTP receivers)", function () {
  this.timeout(60_000);
  let harness: ServiceHarness;
  let smtp: TestSmtpServer;
  const receivers: WebhookReceiver[] = [];

  before(async function () {
    smtp = await startSmtpServer();
    harness = await startServices(["auth", "goals", "activity", "streak", "notification"], {
      SMTP_URL: smtp.url,
      WEBHOOK_ALLOW_PRIVATE: "true",
      WEBHOOK_RETRY_BASE_MS: "50",
    });
  });
  after(async () => {
    await harness?.stop();
    await smtp?.close();
    for (const receiver of receivers) await receiver.close();
  });

  const createGoal = async (owner: User, title: string, body: Record<string, unknown> = {}) =>
    harness.call<{ id: string }>("goals.create", { title, pattern: "daily", ...body }, owner.meta);
  const list = (owner: User, params: Record<string, unknown> = {}) =>
    harness.call<Page<Notification>>("notification.list", { limit: 20, ...params }, owner.meta);
  const forGoal = async (owner: User, goalId: string) =>
    (await list(owner, { limit: 100 })).items.filter((n) => n.data.goalId === goalId);
  const receiver = async (respond?: (n: number) => number) => {
    const started = await startWebhookReceiver(respond);
    receivers.push(started);
    return started;
  };
  const subscribe = async (owner: User, url: string, events: string[]) =>
    harness.call<{ id: string; secret: string }>("notification.createWebhook", { url, events }, owner.meta);
  const attemptsOf = (owner: User, webhookId: string) =>
    harness.call<Page<Attempt>>("notification.deliveries", { id: webhookId, limit: 100 }, owner.meta);
  const putSettings = (owner: User, settings: Omit<Settings, "types"> & { types: Record<string, boolean> }) =>
    harness.call<Settings>("notification.putSettings", settings, owner.meta);

  it("turns a streak milestone into one notification, one mail and one signed webhook, however often it arrives", async () => {
    const owner = await registerUser(harness, "milestone");
    const goal = await createGoal(owner, "Floss every night");
    const hooked = await receiver();
    const hook = await subscribe(owner, hooked.url, ["streak.milestone", "goal.completed"]);
    hooked.secret = hook.secret;
    const event: ChannelPayloads["streak.milestone"] = {
      goalId: goal.id,
      userId: owner.id,
      milestone: 7,
      current: 7,
      lastMetDate: utcDate(),
    };
    await harness.system.bus.publish("streak.milestone", event);
    await harness.system.bus.publish("streak.milestone", event);
    await eventually(async () => (await forGoal(owner, goal.id)).length === 1);
    await eventually(
      () => hooked.received.length === 1 && smtp.mails.some((m) => m.to.includes(owner.email)),
    );
    await harness.system.bus.publish("streak.milestone", event);
    await pause(700);

    const [notification] = await forGoal(owner, goal.id);
    expect(notification).to.include({ type: "streak.milestone", readAt: null });
    expect(notification!.title).to.contain("Floss every night").and.to.contain("7");
    expect(notification!.data).to.deep.include({
      goalId: goal.id,
      milestone: 7,
      goalTitle: "Floss every night",
    });

    const mails = smtp.mails.filter((m) => m.to.includes(owner.email));
    expect(mails).to.have.length(1);
    expect(mails[0]!.headers.subject).to.equal(notification!.title);
    expect(mails[0]!.headers["x-notification-id"]).to.equal(notification!.id);

    expect(hooked.received).to.have.length(1);
    const [delivery] = hooked.received;
    expect(delivery!.signatureValid, "X-Webhook-Signature verifies with the secret").to.equal(true);
    expect(delivery!.headers["content-type"]).to.equal("application/json");
    expect(JSON.parse(delivery!.body)).to.deep.equal({
      id: notification!.id,
      type: "streak.milestone",
      createdAt: notification!.createdAt,
      data: notification!.data,
    });
    const attempts = await attemptsOf(owner, hook.id);
    expect(attempts.items).to.have.length(1);
    expect(attempts.items[0]).to.include({
      id: delivery!.headers["x-webhook-id"],
      notificationId: notification!.id,
      attempt: 1,
      outcome: "success",
      statusCode: 200,
      error: null,
    });
    expect(attempts.items[0]!.durationMs).to.be.a("number");
  });

  it("finishes a notification that a crash interrupted mid-mail: the same id, the mail sent once", async () => {
    const owner = await registerUser(harness, "crashed");
    const goal = await createGoal(owner, "Practice piano");
    const keys = await harness.system.storage.open(notificationKeys);
    const notificationId = newId(Date.now() - 60_000);
    const longAgo = new Date(Date.now() - 10 * 60_000);
    // What a crash during the SMTP exchange leaves: the once-only key and the mail claim, neither done.
    await keys.insert({
      _id: `streak.milestone:${goal.id}:14`,
      userId: owner.id,
      notificationId,
      done: false,
      createdAt: longAgo,
    });
    await keys.insert({
      _id: `mail:${notificationId}`,
      userId: owner.id,
      notificationId,
      done: false,
      createdAt: longAgo,
    });
    const event = { goalId: goal.id, userId: owner.id, milestone: 14, current: 14, lastMetDate: utcDate() };
    await harness.system.bus.publish("streak.milestone", event);
    await eventually(() => smtp.mails.some((m) => m.to.includes(owner.email)));
    await harness.system.bus.publish("streak.milestone", event);
    await pause(500);
    expect((await forGoal(owner, goal.id)).map((n) => n.id)).to.deep.equal([notificationId]);
    const mails = smtp.mails.filter((m) => m.to.includes(owner.email));
    expect(mails.map((m) => m.headers["x-notification-id"])).to.deep.equal([notificationId]);
    expect((await keys.findOne({ _id: `streak.milestone:${goal.id}:14` }))?.done).to.equal(true);
  });

  it("notifies a completed goal and a broken streak once each, per goal and period", async () => {
    const owner = await registerUser(harness, "completed");
    const goal = await createGoal(owner, "Read 12 books");
    const completed = { goalId: goal.id, userId: owner.id, completedOn: utcDate() };
    await harness.system.bus.publish("goal.completed", completed);
    await harness.system.bus.publish("goal.completed", { ...completed, completedOn: utcDate(-DAY) });
    const broken = { goalId: goal.id, userId: owner.id, previous: 4, lastMetDate: utcDate(2 * DAY) };
    await harness.system.bus.publish("streak.broken", broken);
    await harness.system.bus.publish("streak.broken", broken);
    // A later run broken again: another period, another notification.
    await harness.system.bus.publish("streak.broken", { ...broken, previous: 2, lastMetDate: utcDate(DAY) });
    await eventually(async () => (await forGoal(owner, goal.id)).length === 3);
    await pause(500);
    const types = (await forGoal(owner, goal.id)).map((n) => n.type).sort();
    expect(types).to.deep.equal(["goal.completed", "streak.broken", "streak.broken"]);
    const done = (await forGoal(owner, goal.id)).find((n) => n.type === "goal.completed")!;
    expect(done.title).to.contain("Read 12 books");
    expect(smtp.mails.filter((m) => m.to.includes(owner.email))).to.have.length(3);
  });

  it("creates nothing for a type switched off, and no mail with email off", async () => {
    const owner = await registerUser(harness, "quiet");
    const goal = await createGoal(owner, "Stretch");
    await putSettings(owner, {
      email: false,
      reminderTime: "20:00",
      weeklySummary: true,
      types: { "goal.completed": false },
    });
    await harness.system.bus.publish("goal.completed", {
      goalId: goal.id,
      userId: owner.id,
      completedOn: utcDate(),
    });
    await harness.system.bus.publish("streak.milestone", {
      goalId: goal.id,
      userId: owner.id,
      milestone: 3,
      current: 3,
      lastMetDate: utcDate(),
    });
    await eventually(async () => (await forGoal(owner, goal.id)).length === 1);
    await pause(500);
    expect((await forGoal(owner, goal.id)).map((n) => n.type)).to.deep.equal(["streak.milestone"]);
    expect(smtp.mails.filter((m) => m.to.includes(owner.email))).to.have.length(0);
  });

  it("retries a failing receiver with backoff and logs each attempt under one delivery id", async () => {
    const owner = await registerUser(harness, "flaky");
    const goal = await createGoal(owner, "Walk");
    const flaky = await receiver((n) => (n <= 2 ? 500 : 200));
    const hook = await subscribe(owner, flaky.url, ["streak.milestone"]);
    flaky.secret = hook.secret;
    await harness.system.bus.publish("streak.milestone", {
      goalId: goal.id,
      userId: owner.id,
      milestone: 3,
      current: 3,
      lastMetDate: utcDate(),
    });
    await eventually(async () =>
      (await attemptsOf(owner, hook.id)).items.some((a) => a.outcome === "success"),
    );
    await pause(500);
    const attempts = (await attemptsOf(owner, hook.id)).items;
    expect(attempts.map((a) => [a.attempt, a.outcome, a.statusCode])).to.deep.equal([
      [3, "success", 200],
      [2, "failure", 500],
      [1, "failure", 500],
    ]);
    expect(new Set(attempts.map((a) => a.id)).size).to.equal(1);
    expect(attempts[1]!.error).to.contain("500");
    expect(flaky.received).to.have.length(3);
    expect(
      new Set(flaky.received.map((r) => r.headers["x-webhook-id"])).size,
      "X-Webhook-Id is stable",
    ).to.equal(1);
    expect(new Set(flaky.received.map((r) => r.body)).size, "the same body every time").to.equal(1);
    expect(flaky.received.every((r) => r.signatureValid)).to.equal(true);
  });

  it("gives up on a dead receiver after 6 failed attempts", async () => {
    const owner = await registerUser(harness, "dead");
    const goal = await createGoal(owner, "Swim");
    const hook = await subscribe(owner, await deadUrl(), ["goal.completed"]);
    await harness.system.bus.publish("goal.completed", {
      goalId: goal.id,
      userId: owner.id,
      completedOn: utcDate(),
    });
    const store = await harness.system.storage.open(deliveries);
    await eventually(async () => (await store.findOne({ webhookId: hook.id }))?.state === "failed", 30_000);
    await pause(300);
    const attempts = (await attemptsOf(owner, hook.id)).items;
    expect(attempts.map((a) => a.attempt)).to.deep.equal([6, 5, 4, 3, 2, 1]);
    expect(attempts.every((a) => a.outcome === "failure" && a.statusCode === null)).to.equal(true);
    expect(attempts[0]!.error).to.equal("ECONNREFUSED");
    expect((await store.findOne({ webhookId: hook.id }))?.attempts).to.equal(6);
  });

  it("reminds of a daily streak at risk once the reminder time has passed, once per goal and day", async () => {
    const owner = await registerUser(harness, "atrisk");
    const goal = await createGoal(owner, "Meditate", { startDate: utcDate(3 * DAY) });
    const done = await createGoal(owner, "Stretch", { startDate: utcDate(3 * DAY) });
    const today = utcDate();
    const log = (goalId: string, date: string) =>
      harness.call(
        "activity.log",
        { id: goalId, quantity: 1, occurredAt: `${date}T12:00:00.000Z` },
        owner.meta,
      );
    for (const daysAgo of [2, 1]) {
      await log(goal.id, utcDate(daysAgo * DAY));
      await log(done.id, utcDate(daysAgo * DAY));
    }
    // Met today already: not at risk.
    await harness.call("activity.log", { id: done.id, quantity: 1 }, owner.meta);
    await eventually(
      async () =>
        (await harness.call<{ streak: { current: number } }>("goals.get", { id: goal.id }, owner.meta)).streak
          .current === 2,
    );
    const before = await harness.call<{ processed: number }>("notification.atRiskReminders", {
      now: `${today}T19:59:00.000Z`,
    });
    expect(before.processed, "before the default reminder time (20:00)").to.equal(0);
    const first = await harness.call<{ processed: number }>("notification.atRiskReminders", {
      now: `${today}T20:00:00.000Z`,
    });
    expect(first.processed).to.equal(1);
    const again = await harness.call<{ processed: number }>("notification.atRiskReminders", {
      now: `${today}T21:00:00.000Z`,
    });
    expect(again.processed).to.equal(0);
    const reminders = (await forGoal(owner, goal.id)).filter((n) => n.type === "streak.at_risk");
    expect(reminders).to.have.length(1);
    expect(reminders[0]!.data).to.deep.include({ goalId: goal.id, current: 2, date: today });
    expect(reminders[0]!.body).to.contain("Meditate");

    expect((await forGoal(owner, done.id)).filter((n) => n.type === "streak.at_risk")).to.have.length(0);
  });

  it("pages the inbox newest first, filters unread, marks read one and all", async () => {
    const owner = await registerUser(harness, "inbox");
    const goal = await createGoal(owner, "Journal");
    for (const milestone of [3, 7, 14]) {
      await harness.system.bus.publish("streak.milestone", {
        goalId: goal.id,
        userId: owner.id,
        milestone,
        current: milestone,
        lastMetDate: utcDate(),
      });
    }
    await eventually(async () => (await list(owner)).items.length === 3);
    const first = await list(owner, { limit: 2 });
    expect(first.items).to.have.length(2);
    expect(first.nextCursor).to.be.a("string");
    const second = await list(owner, { limit: 2, cursor: first.nextCursor });
    expect(second.items).to.have.length(1);
    expect(second.nextCursor).to.equal(null);
    const all = [...first.items, ...second.items];
    expect(all.map((n) => n.id)).to.deep.equal([...all.map((n) => n.id)].sort().reverse());

    const read = await harness.call<Notification>("notification.markRead", { id: all[1]!.id }, owner.meta);
    expect(read.readAt).to.be.a("string");
    const again = await harness.call<Notification>("notification.markRead", { id: all[1]!.id }, owner.meta);
    expect(again.readAt, "the first read time is kept").to.equal(read.readAt);
    expect((await list(owner, { unread: true })).items.map((n) => n.id)).to.deep.equal([
      all[0]!.id,
      all[2]!.id,
    ]);
    const stranger = await registerUser(harness, "stranger");
    const failure = await failureOf(harness.call("notification.markRead", { id: all[0]!.id }, stranger.meta));
    expect(failure?.type).to.equal("NOT_FOUND");
    expect(await harness.call("notification.markAllRead", {}, owner.meta)).to.deep.equal({ updated: 2 });
    expect((await list(owner, { unread: true })).items).to.have.length(0);
  });

  it("takes a deleted account's notifications, settings, webhooks and deliveries with it", async () => {
    const owner = await registerUser(harness, "leaving");
    const goal = await createGoal(owner, "Pack");
    const hooked = await receiver();
    const hook = await subscribe(owner, hooked.url, ["goal.completed"]);
    await putSettings(owner, { email: false, reminderTime: "07:30", weeklySummary: false, types: {} });
    await harness.system.bus.publish("goal.completed", {
      goalId: goal.id,
      userId: owner.id,
      completedOn: utcDate(),
    });
    await eventually(() => hooked.received.length === 1);
    await harness.call("auth.deleteAccount", {}, owner.meta);
    const [hookStore, deliveryStore] = await Promise.all([
      harness.system.storage.open(webhooks),
      harness.system.storage.open(deliveries),
    ]);
    await eventually(async () => (await hookStore.count({ userId: owner.id })) === 0);
    await eventually(async () => (await deliveryStore.count({ userId: owner.id })) === 0);
    await eventually(async () => (await list(owner)).items.length === 0);
    // Settings go last; once they are gone the defaults answer again.
    await eventually(
      async () =>
        (await harness.call<Settings>("notification.getSettings", {}, owner.meta)).reminderTime === "20:00",
    );
    expect(await harness.call<Settings>("notification.getSettings", {}, owner.meta)).to.include({
      reminderTime: "20:00",
      email: true,
    });
    expect(hook.id).to.be.a("string");
  });
});

describe("notification service without SMTP and without private webhook targets", function () {
  this.timeout(60_000);
  let harness: ServiceHarness;
  let user: User;
  const receivers: WebhookReceiver[] = [];

  before(async function () {
    harness = await startServices(["auth", "goals", "activity", "streak", "aggregation", "notification"], {
      WEBHOOK_RETRY_BASE_MS: "50",
    });
    user = await registerUser(harness, "outbox");
  });
  after(async () => {
    await harness?.stop();
    for (const receiver of receivers) await receiver.close();
  });

  const createWebhook = (url: string, meta: RequestMeta = user.meta) =>
    harness.call<{ id: string; secret: string }>(
      "notification.createWebhook",
      { url, events: ["goal.completed"] },
      meta,
    );

  it("writes each mail as an .eml file to DATA_DIR/outbox when SMTP_URL is unset", async () => {
    const goal = await harness.call<{ id: string }>(
      "goals.create",
      { title: "Water the plants", pattern: "daily" },
      user.meta,
    );
    await harness.system.bus.publish("goal.completed", {
      goalId: goal.id,
      userId: user.id,
      completedOn: utcDate(),
    });
    let notification: Notification | undefined;
    await eventually(async () => {
      const page = await harness.call<Page<Notification>>("notification.list", { limit: 20 }, user.meta);
      notification = page.items.find((n) => n.data.goalId === goal.id);
      return notification !== undefined;
    });
    const file = path.join(harness.config.dataDir, "outbox", `${notification!.id}.eml`);
    let eml = "";
    await eventually(async () => {
      eml = await readFile(file, "utf8").catch(() => "");
      return eml.length > 0;
    });
    const headers = parseHeaders(eml);
    expect(headers.to).to.contain(user.email);
    expect(headers.subject).to.equal('Goal completed: "Water the plants"');
    expect(headers["x-notification-id"]).to.equal(notification!.id);
    expect(eml).to.contain("Water the plants");
  });

  it("refuses webhook URLs on private, loopback, link-local and reserved addresses (422 /url)", async () => {
    const refused = [
      "http://127.0.0.1:8080/hook",
      "http://10.1.2.3/hook",
      "http://169.254.169.254/latest/meta-data",
      "http://[::1]:8080/hook",
      "http://localhost:8080/hook",
      "http://[::ffff:127.0.0.1]/hook",
      "http://[::ffff:a9fe:a9fe]/hook",
      "http://0.0.0.0/hook",
      "http://100.64.0.1/hook",
      "http://192.168.1.10/hook",
      "http://172.16.0.1/hook",
      "http://[fe80::1]/hook",
      "http://[fd12:3456::1]/hook",
      "http://224.0.0.1/hook",
      "http://2130706433/hook",
    ];
    for (const url of refused) {
      const error = await failureOf(createWebhook(url));
      expect(error?.type, url).to.equal("VALIDATION_ERROR");
      expect(
        error?.data?.details?.map((d) => d.path),
        url,
      ).to.deep.equal(["/url"]);
    }
    for (const url of ["ftp://example.test/x", "javascript:alert(1)", "not a url"]) {
      const error = await failureOf(createWebhook(url));
      expect(error?.type, url).to.equal("VALIDATION_ERROR");
      expect(
        error?.data?.details?.map((d) => d.path),
        url,
      ).to.include("/url");
    }
  });

  it("accepts a public address (never called: its owner gets no notification)", async () => {
    const nobody: RequestMeta = { user: { id: `nobody-${newId()}`, role: "user" } };
    const created = await createWebhook("http://203.0.114.7/hook", nobody);
    expect(created.secret).to.match(/^whsec_/);
    await harness.call("notification.deleteWebhook", { id: created.id }, nobody);
  });

  it("checks the address again at every send: a host that now resolves to loopback is refused, not called", async () => {
    const receiver = await startWebhookReceiver();
    receivers.push(receiver);
    const goal = await harness.call<{ id: string }>(
      "goals.create",
      { title: "Rebind", pattern: "daily" },
      user.meta,
    );
    // What DNS rebinding leaves: a webhook accepted while its host was public, whose host is loopback now.
    const store = await harness.system.storage.open(webhooks);
    const hookId = newId();
    await store.insert({
      _id: hookId,
      userId: user.id,
      url: receiver.url,
      events: ["goal.completed"],
      secret: "whsec_test",
      createdAt: new Date(),
    });
    await harness.system.bus.publish("goal.completed", {
      goalId: goal.id,
      userId: user.id,
      completedOn: utcDate(),
    });
    const attemptsOf = () =>
      harness.call<Page<Attempt>>("notification.deliveries", { id: hookId, limit: 100 }, user.meta);
    await eventually(async () => (await attemptsOf()).items.some((a) => a.outcome === "refused"));
    const [attempt] = (await attemptsOf()).items.filter((a) => a.outcome === "refused");
    expect(attempt).to.include({ statusCode: null });
    expect(attempt!.error).to.contain("refused");
    expect(receiver.received).to.have.length(0);
    await harness.call("notification.deleteWebhook", { id: hookId }, user.meta);
  });

  it("sends last week's summary on the first day of the user's week from 08:00 local, once", async function () {
    const quiet = await registerUser(harness, "no-summary");
    await harness.call(
      "notification.putSettings",
      { email: false, reminderTime: "20:00", weeklySummary: false, types: {} },
      quiet.meta,
    );
    const monday = "2026-03-02"; // a Monday; users here are on UTC with weeks from Monday
    const run = (now: string) => harness.call<{ processed: number }>("notification.weeklySummaries", { now });
    expect((await run(`${monday}T07:59:00.000Z`)).processed, "before 08:00").to.equal(0);
    expect((await run("2026-03-03T09:00:00.000Z")).processed, "a Tuesday").to.equal(0);
    const first = await run(`${monday}T08:00:00.000Z`);
    // Only this week's: the aggregation scheduler may run the job with the real clock meanwhile.
    const summaries = async (owner: User) =>
      (await harness.call<Page<Notification>>("notification.list", { limit: 100 }, owner.meta)).items.filter(
        (n) => n.type === "weekly.summary" && n.data.weekStartDate === "2026-02-23",
      );
    expect(await summaries(user)).to.have.length(1);
    expect(await summaries(quiet)).to.have.length(0);
    expect(first.processed).to.equal(1);
    expect((await run(`${monday}T12:00:00.000Z`)).processed, "run again").to.equal(0);
    const [summary] = await summaries(user);
    expect(summary!.data).to.include.keys(["activities", "goalsDue", "goalsMet", "completionRate"]);
    expect(summary!.title).to.contain("2026-02-23");
  });
});
