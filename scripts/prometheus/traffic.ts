/**
 * Realistic traffic through the gateway, as the frontends and operators make it, so that every business,
 * pipeline and gateway metric moves: accounts (one admin), goals of each pattern, single, idempotent and
 * bulk activity logs, reads, stats, a streak milestone and a completed goal (notifications, webhook
 * deliveries to a local receiver that fails once, and to an endpoint that is down), logins (one failed),
 * a refresh-token reuse, 404s and 422s, and one run of every admin job.
 */
import { randomBytes } from "node:crypto";
import { JOB_NAMES } from "../../shared/api/stats.ts";
import type { WebhookReceiver } from "../../test/helpers/webhook-receiver.ts";

export interface TrafficOptions {
  /** http://127.0.0.1:<port>/api/v1 */
  baseUrl: string;
  /** The steady phase after the scenario lasts until this many seconds after the start. */
  seconds: number;
  adminEmail: string;
  /** Parallel users in the steady phase. */
  users?: number;
  /** A local receiver that answers 500 to its first request and 200 after (the caller closes it). */
  receiver: WebhookReceiver;
  /** A loopback URL nothing listens on: a user's webhook endpoint that is down. */
  deadUrl: string;
}

export interface TrafficCheck {
  ok: boolean;
  name: string;
  detail: string;
}

export interface TrafficResult {
  requests: number;
  byStatus: Record<string, number>;
  /** Answers with a status the script did not expect (first ones only). */
  unexpected: string[];
  unexpectedCount: number;
  checks: TrafficCheck[];
}

interface Session {
  user: { id: string; email: string; role: string };
  accessToken: string;
  refreshToken: string;
  password: string;
}

interface Goal {
  id: string;
  pattern: string;
  milestones?: { id: string }[];
}

interface CallOptions {
  body?: unknown;
  token?: string;
  headers?: Record<string, string>;
  /** Statuses that count as expected; the route's success status by default (200). */
  expect?: number[];
}

const DAY = 86_400_000;
const PASSWORD = "correct horse battery staple";
const dateDaysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString().slice(0, 10);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class Client {
  readonly baseUrl: string;
  requests = 0;
  unexpectedCount = 0;
  readonly unexpected: string[] = [];
  readonly byStatus: Record<string, number> = {};

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl;
  }

  async call<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: CallOptions = {},
  ): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    this.requests += 1;
    let status = 0;
    let text = "";
    try {
      const response = await fetch(this.baseUrl + path, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(15_000),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      text = String(error);
    }
    this.byStatus[status] = (this.byStatus[status] ?? 0) + 1;
    const expected = options.expect ?? [200];
    if (!expected.includes(status)) {
      this.unexpectedCount += 1;
      if (this.unexpected.length < 10) {
        this.unexpected.push(
          `${method} ${path}: ${status}, expected ${expected.join("|")}: ${text.slice(0, 200)}`,
        );
      }
    }
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // not JSON (204, an HTML page): keep the text
    }
    return { status, body: body as T };
  }
}

async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(250);
  }
  return false;
}

export async function runTraffic(options: TrafficOptions): Promise<TrafficResult> {
  const started = Date.now();
  const api = new Client(options.baseUrl);
  const run = randomBytes(3).toString("hex");
  const checks: TrafficCheck[] = [];
  const check = (ok: boolean, name: string, detail: string) => checks.push({ ok, name, detail });
  const as = (session: Session) => session.accessToken;

  const register = async (email: string): Promise<Session> => {
    const response = await api.call<Session>("POST", "/auth/register", {
      body: { email, password: PASSWORD, displayName: email.split("@")[0], timezone: "UTC" },
      expect: [201],
    });
    if (response.status !== 201) throw new Error(`cannot register ${email}: ${response.status}`);
    return { ...response.body, password: PASSWORD };
  };

  // Accounts: the admin (ADMIN_EMAILS) and the users.
  const admin = await register(options.adminEmail);
  check(
    admin.user.role === "admin",
    "admin account",
    `${options.adminEmail} registered as ${admin.user.role}`,
  );
  const users: Session[] = [];
  for (let i = 0; i < (options.users ?? 4); i += 1)
    users.push(await register(`user${i}-${run}@example.test`));
  const [hooked, unlucky] = users as [Session, Session];

  // Webhooks: one receiver that answers 500 once then 200 (a retry), one endpoint that is down.
  const receiver = options.receiver;
  const events = ["streak.milestone", "goal.completed"];
  const hook = await api.call<{ id: string; secret: string }>("POST", "/webhooks", {
    body: { url: receiver.url, events },
    token: as(hooked),
    expect: [201],
  });
  receiver.secret = hook.body.secret;
  const deadHook = await api.call<{ id: string }>("POST", "/webhooks", {
    body: { url: options.deadUrl, events },
    token: as(unlucky),
    expect: [201],
  });

  // Goals of each pattern for every user, a daily goal begun two days ago and a small target goal.
  const bodies: Record<string, Record<string, unknown>> = {
    daily: { pattern: "daily", title: "Floss" },
    frequency: {
      pattern: "frequency",
      title: "Run",
      timesPerPeriod: 3,
      period: "week",
      target: 5,
      unit: "km",
    },
    target: { pattern: "target", title: "Save", target: 100_000, unit: "EUR", endDate: "2099-12-31" },
    limit: { pattern: "limit", title: "Coffee", limit: 2, period: "day", unit: "cups" },
    milestone: {
      pattern: "milestone",
      title: "Thesis",
      milestones: [{ title: "Outline" }, { title: "Draft" }],
    },
  };
  const goals = new Map<Session, Record<string, Goal>>();
  for (const user of users) {
    const mine: Record<string, Goal> = {};
    for (const [pattern, body] of Object.entries(bodies)) {
      mine[pattern] = (await api.call<Goal>("POST", "/goals", { body, token: as(user), expect: [201] })).body;
    }
    mine.streak = (
      await api.call<Goal>("POST", "/goals", {
        body: { pattern: "daily", title: "Drink water", startDate: dateDaysAgo(2) },
        token: as(user),
        expect: [201],
      })
    ).body;
    mine.book = (
      await api.call<Goal>("POST", "/goals", {
        body: {
          pattern: "target",
          title: "Read a book",
          target: 10,
          unit: "chapters",
          endDate: "2099-12-31",
        },
        token: as(user),
        expect: [201],
      })
    ).body;
    goals.set(user, mine);
  }
  const goalOf = (user: Session, name: string) => goals.get(user)![name]!;

  // A 3-day streak (milestone 3) and a completed target goal: notifications and webhook deliveries.
  for (const user of users) {
    const streak = goalOf(user, "streak").id;
    for (const n of [2, 1, 0]) {
      await api.call("POST", `/goals/${streak}/activities`, {
        body: { occurredAt: n === 0 ? new Date().toISOString() : `${dateDaysAgo(n)}T12:00:00.000Z` },
        token: as(user),
        expect: [201],
      });
    }
    await api.call("POST", `/goals/${goalOf(user, "book").id}/activities`, {
      body: { quantity: 10, note: "finished" },
      token: as(user),
      expect: [201],
    });
    const milestone = goalOf(user, "milestone");
    await api.call("POST", `/goals/${milestone.id}/activities`, {
      body: { milestoneId: milestone.milestones?.[0]?.id },
      token: as(user),
      expect: [201],
    });
    // The same log twice with one Idempotency-Key: the replay answers the first response.
    const key = `run-${run}-${user.user.id}`;
    for (let i = 0; i < 2; i += 1) {
      await api.call("POST", `/goals/${goalOf(user, "frequency").id}/activities`, {
        body: { quantity: 5 },
        token: as(user),
        headers: { "Idempotency-Key": key },
        expect: [201],
      });
    }
    await api.call("POST", "/activities/bulk", {
      body: {
        items: ["daily", "frequency", "limit", "limit", "limit", "target"].map((name, i) => ({
          goalId: goalOf(user, name).id,
          quantity: name === "target" ? 250 : 1,
          clientId: `bulk-${i}`,
        })),
      },
      token: as(user),
    });
  }

  // Auth: a failed login, a login, a refresh, and a reuse of the refresh token (revokes its family).
  await api.call("POST", "/auth/login", {
    body: { email: hooked.user.email, password: "not the password" },
    expect: [401],
  });
  const login = await api.call<Session>("POST", "/auth/login", {
    body: { email: unlucky.user.email, password: PASSWORD },
  });
  await api.call("POST", "/auth/refresh", { body: { refreshToken: login.body.refreshToken } });
  await api.call("POST", "/auth/refresh", { body: { refreshToken: login.body.refreshToken }, expect: [401] });

  // Every scheduled job once, as an operator would from the admin API.
  for (const job of JOB_NAMES) {
    await api.call("POST", `/admin/jobs/${job}/run`, { token: as(admin) });
  }
  await api.call("POST", "/admin/jobs/close-days/run", { token: as(hooked), expect: [403] });

  // The steady phase: every user reads and logs until the time is up, with a 404 and a 422 now and then.
  const deadline = started + options.seconds * 1000;
  const steady = async (user: Session, index: number) => {
    for (let round = 0; Date.now() < deadline; round += 1) {
      const token = as(user);
      const frequency = goalOf(user, round % 2 === 0 ? "frequency" : "daily").id;
      await api.call("POST", `/goals/${frequency}/activities`, {
        body: { quantity: 1, note: `round ${round}` },
        token,
        headers: round % 3 === 0 ? { "Idempotency-Key": `steady-${run}-${index}-${round}` } : {},
        expect: [201],
      });
      await api.call("GET", "/goals", { token });
      await api.call("GET", `/goals?pattern=limit`, { token });
      await api.call("GET", `/goals/${goalOf(user, "target").id}`, { token });
      await api.call("GET", `/goals/${frequency}/progress`, { token });
      await api.call("GET", "/stats/daily", { token });
      await api.call("GET", "/stats/weekly", { token });
      await api.call("GET", "/notifications", { token });
      await api.call("GET", "/me", { token });
      if (round % 2 === 0) {
        await api.call("GET", `/goals/${"0".repeat(12)}${randomBytes(10).toString("hex")}`, {
          token,
          expect: [404],
        });
        await api.call("POST", "/goals", { body: { pattern: "daily" }, token, expect: [422] });
        await api.call("POST", `/goals/${goalOf(user, "book").id}/activities`, {
          body: { quantity: 1 },
          token,
          expect: [409],
        });
      }
      if (round % 5 === 0) {
        await api.call("POST", "/auth/login", { body: { email: user.user.email, password: PASSWORD } });
      }
      await sleep(150);
    }
  };
  await Promise.all(users.map((user, index) => steady(user, index)));

  // What the scenario promised, seen from the outside.
  const inbox = await api.call<{ items: { type: string }[] }>("GET", "/notifications?limit=50", {
    token: as(hooked),
  });
  const types = new Set((inbox.body.items ?? []).map((item) => item.type));
  check(
    types.has("streak.milestone") && types.has("goal.completed"),
    "notifications",
    `inbox of ${hooked.user.email} has ${[...types].sort().join(", ") || "nothing"}`,
  );
  const delivered = await eventually(
    async () => receiver.received.filter((request) => request.signatureValid).length >= 3,
    10_000,
  );
  check(
    delivered,
    "webhook deliveries",
    `receiver got ${receiver.received.length} signed POSTs (the first answered 500, then retried)`,
  );
  let attempts: { outcome: string }[] = [];
  const gaveUp = await eventually(async () => {
    const page = await api.call<{ items: { outcome: string }[] }>(
      "GET",
      `/webhooks/${deadHook.body.id}/deliveries?limit=100`,
      { token: as(unlucky) },
    );
    attempts = page.body.items ?? [];
    return attempts.length >= 12;
  }, 10_000);
  check(
    gaveUp && attempts.every((attempt) => attempt.outcome !== "success"),
    "webhook to a dead endpoint",
    `${attempts.length} failed attempts (6 per delivery, 2 deliveries)`,
  );
  return {
    requests: api.requests,
    byStatus: api.byStatus,
    unexpected: api.unexpected,
    unexpectedCount: api.unexpectedCount,
    checks,
  };
}
