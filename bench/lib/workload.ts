/**
 * The users the throughput benchmark plays, and its scenarios as request sessions for the load generator.
 * Every user has one goal of each pattern; logs go to the daily, frequency and target goals, so that a goal
 * gathers only tens of activities a day, as real ones do, however long the benchmark runs.
 */
import type { RequestTemplate } from "./load-spec.ts";

export const SCENARIOS = ["log", "read", "list", "login", "session"] as const;
export type Scenario = (typeof SCENARIOS)[number];

export const SCENARIO_TITLES: Record<Scenario, string> = {
  log: "log an activity (POST /goals/:id/activities)",
  read: "read a goal with progress (GET /goals/:id)",
  list: "list goals (GET /goals)",
  login: "login (POST /auth/login, argon2id)",
  session: "mixed frontend session (7 requests, 1 write)",
};

const PASSWORD = "bench-password-1";

const GOALS = [
  { pattern: "daily", title: "Read 20 pages" },
  { pattern: "frequency", title: "Exercise", timesPerPeriod: 3, period: "week" },
  { pattern: "target", title: "Run 1,000 km", target: 1_000_000, endDate: "2099-12-31" },
  { pattern: "limit", title: "At most 2 coffees", limit: 2, period: "day" },
  { pattern: "milestone", title: "Ship the app", milestones: [{ title: "Design" }, { title: "Build" }] },
] as const;

/** How many of GOALS take logs (daily, frequency, target). */
const LOGGED_GOALS = 3;

/** Refresh tokens well before access tokens (≤ 15 min) expire. */
const TOKEN_MAX_AGE_MS = 5 * 60 * 1000;

interface Tokens {
  accessToken: string;
  refreshToken: string;
}

export interface BenchUser {
  email: string;
  accessToken: string;
  refreshToken: string;
  tokenAt: number;
  goalIds: string[];
}

async function call<T>(
  baseUrl: string,
  method: string,
  path: string,
  body: unknown,
  token?: string,
): Promise<T> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** Registers `count` users (a few at a time: argon2 hashing is the slow part) with one goal per pattern. */
export async function seedUsers(baseUrl: string, count: number, label: string): Promise<BenchUser[]> {
  const users: BenchUser[] = [];
  const seedOne = async (index: number) => {
    const email = `bench-${label}-${index}@example.test`;
    const tokens = await call<Tokens>(baseUrl, "POST", "/auth/register", { email, password: PASSWORD });
    const goalIds: string[] = [];
    for (const goal of GOALS) {
      goalIds.push((await call<{ id: string }>(baseUrl, "POST", "/goals", goal, tokens.accessToken)).id);
    }
    users.push({ email, ...tokens, tokenAt: Date.now(), goalIds });
  };
  for (let next = 0; next < count; next += 8) {
    await Promise.all(
      Array.from({ length: Math.min(8, count - next) }, (_, offset) => seedOne(next + offset)),
    );
  }
  return users;
}

/** Fresh access tokens for users whose token is getting old (between measurements, never during one). */
export async function keepTokensFresh(baseUrl: string, users: BenchUser[]): Promise<void> {
  for (const user of users) {
    if (Date.now() - user.tokenAt < TOKEN_MAX_AGE_MS) continue;
    const tokens = await call<Tokens>(baseUrl, "POST", "/auth/refresh", { refreshToken: user.refreshToken });
    Object.assign(user, tokens, { tokenAt: Date.now() });
  }
}

export interface ScenarioRequests {
  sessions: RequestTemplate[][];
  expectStatus: number[];
}

/** The sessions of a scenario; `prefix` is the API's path (/api/v1). */
export function scenarioRequests(scenario: Scenario, users: BenchUser[], prefix: string): ScenarioRequests {
  const auth = (user: BenchUser) => ({ authorization: `Bearer ${user.accessToken}` });
  const get = (user: BenchUser, path: string): RequestTemplate => ({
    method: "GET",
    path: `${prefix}${path}`,
    headers: auth(user),
  });
  const log = (user: BenchUser, goalId: string): RequestTemplate => ({
    method: "POST",
    path: `${prefix}/goals/${goalId}/activities`,
    headers: auth(user),
    body: { quantity: 1 },
  });
  switch (scenario) {
    case "log":
      return {
        sessions: users.flatMap((user) =>
          user.goalIds.slice(0, LOGGED_GOALS).map((goal) => [log(user, goal)]),
        ),
        expectStatus: [201],
      };
    case "read":
      return {
        sessions: users.flatMap((user) => user.goalIds.map((goal) => [get(user, `/goals/${goal}`)])),
        expectStatus: [200],
      };
    case "list":
      return { sessions: users.map((user) => [get(user, "/goals")]), expectStatus: [200] };
    case "login":
      return {
        sessions: users.map((user) => [
          { method: "POST", path: `${prefix}/auth/login`, body: { email: user.email, password: PASSWORD } },
        ]),
        expectStatus: [200],
      };
    case "session":
      // What a frontend does when the app opens and the user ticks off today's habit.
      return {
        sessions: users.map((user, index) => {
          const goal = user.goalIds[index % LOGGED_GOALS]!;
          return [
            get(user, "/me"),
            get(user, "/goals"),
            get(user, `/goals/${goal}`),
            log(user, goal),
            get(user, `/goals/${goal}`),
            get(user, "/stats/daily"),
            get(user, "/notifications?unread=true"),
          ];
        }),
        expectStatus: [200, 201],
      };
  }
}
