/**
 * The steady load of the fault-injection run: a fixed number of clients, each logging activities one after
 * another with a fresh Idempotency-Key per activity, as a frontend would. Every HTTP attempt is recorded
 * with its outcome, so that afterwards each answer can be held against what the system stored.
 */
import { randomBytes } from "node:crypto";

export type Pattern = "daily" | "frequency" | "target" | "limit";
export type Outcome = "2xx" | "4xx" | "5xx" | "no-answer";

export interface LoadGoal {
  id: string;
  pattern: Pattern;
  title: string;
  startDate: string;
  /** The pattern's own figures as created: target (daily, frequency per day, target), times, cap. */
  rules: { target: number | null; timesPerPeriod: number | null; limit: number | null };
  /** Set once the goal answered GOAL_ALREADY_COMPLETED: clients stop picking it. */
  closed: boolean;
}

export interface LoadUser {
  index: number;
  email: string;
  password: string;
  userId: string;
  token: string;
  tokenIssuedAt: number;
  goals: LoadGoal[];
}

/** One HTTP attempt of one logical log (one Idempotency-Key). */
export interface Attempt {
  key: string;
  client: number;
  user: number;
  goalId: string;
  quantity: number;
  occurredAt: string;
  /** 1 for the first try of a key, then 2, 3, … for the retries after a 5xx or no answer. */
  attempt: number;
  /** A deliberate second send after a 2xx: it must answer the same activity and store nothing new. */
  replay: boolean;
  startedAt: number;
  endedAt: number;
  status: number | null;
  outcome: Outcome;
  activityId: string | null;
  errorCode: string | null;
}

export interface LoadOptions {
  baseUrl: string;
  users: LoadUser[];
  clients: number;
  /** Pause between two logs of one client. */
  thinkMs: number;
  /** A request without an answer after this long counts as "no answer" (the broker's own timeout is 15 s). */
  requestTimeoutMs: number;
  /** Attempts per key for the retrying clients (every other client gives up after the first failure). */
  maxAttempts: number;
  /** Share of 2xx logs sent a second time with the same key. */
  replayShare: number;
  /** Backdated logs reach this many days into the past (the goals start one day earlier). */
  historyDays: number;
}

/** Access tokens live 15 minutes: a client logs in again well before, so that a long run sees no 401. */
const TOKEN_RENEW_MS = 10 * 60 * 1000;
const FAILURE_PAUSE_MS = 500;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const randomInt = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));

/** Quantities that make some days reach the daily target, some not, and push limit goals over their cap. */
function quantityFor(pattern: Pattern): number {
  switch (pattern) {
    case "daily":
      return randomInt(1, 2);
    case "frequency":
      return 1;
    case "target":
      return randomInt(1, 5);
    case "limit":
      return randomInt(1, 2);
  }
}

/** Mostly recent days (so streaks up to today grow and cross milestones), some deep in the past. */
function occurredAtFor(historyDays: number): string {
  const daysBack = Math.floor(historyDays * Math.random() ** 2);
  const jitterMs = randomInt(0, 60_000);
  return new Date(Date.now() - daysBack * 86_400_000 - jitterMs).toISOString();
}

export class LoadGenerator {
  readonly attempts: Attempt[] = [];
  readonly runId = randomBytes(3).toString("hex");
  private readonly options: LoadOptions;
  private stopping = false;
  private running: Promise<void>[] = [];
  private sequence = 0;

  constructor(options: LoadOptions) {
    this.options = options;
  }

  start(): void {
    this.running = Array.from({ length: this.options.clients }, (_, client) => this.runClient(client));
  }

  /** Lets every client finish the key it is working on (retries included), then returns. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running);
  }

  private async runClient(client: number): Promise<void> {
    // Half the clients retry a failed log with the same key, as a careful frontend does; the other half
    // give up at once, which leaves logs whose only answer was a 5xx or none.
    const retrying = client % 2 === 0;
    while (!this.stopping) {
      const user = this.options.users[randomInt(0, this.options.users.length - 1)]!;
      const open = user.goals.filter((goal) => !goal.closed);
      if (open.length === 0) {
        await sleep(this.options.thinkMs);
        continue;
      }
      const goal = open[randomInt(0, open.length - 1)]!;
      this.sequence += 1;
      const key = `chaos-${this.runId}-${client}-${this.sequence}`;
      const body = {
        quantity: quantityFor(goal.pattern),
        occurredAt: occurredAtFor(this.options.historyDays),
        // The key travels in the note, so every stored activity can be traced back to its request.
        note: key,
      };
      let succeeded = false;
      for (let attempt = 1; ; attempt += 1) {
        const result = await this.send(client, user, goal, key, body, attempt, false);
        if (result.outcome === "2xx") {
          succeeded = true;
          if (Math.random() < this.options.replayShare) {
            await this.send(client, user, goal, key, body, attempt + 1, true);
          }
          break;
        }
        if (result.outcome === "4xx") {
          if (result.errorCode === "GOAL_ALREADY_COMPLETED") goal.closed = true;
          break;
        }
        if (!retrying || attempt >= this.options.maxAttempts) break;
        await sleep(Math.min(5000, 300 * 2 ** (attempt - 1)));
      }
      // A person who just saw an error does not log the next thing within milliseconds.
      await sleep(succeeded ? this.options.thinkMs : FAILURE_PAUSE_MS);
    }
  }

  private async send(
    client: number,
    user: LoadUser,
    goal: LoadGoal,
    key: string,
    body: { quantity: number; occurredAt: string; note: string },
    attempt: number,
    replay: boolean,
  ): Promise<Attempt> {
    await this.renewToken(user);
    const startedAt = Date.now();
    let status: number | null = null;
    let outcome: Outcome = "no-answer";
    let activityId: string | null = null;
    let errorCode: string | null = null;
    try {
      const response = await fetch(`${this.options.baseUrl}/goals/${goal.id}/activities`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${user.token}`,
          "content-type": "application/json",
          "idempotency-key": key,
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
      });
      const text = await response.text();
      status = response.status;
      outcome = status < 300 ? "2xx" : status < 500 ? "4xx" : "5xx";
      const parsed = parseJson(text);
      if (outcome === "2xx") activityId = typeof parsed?.id === "string" ? parsed.id : null;
      else errorCode = errorCodeOf(parsed);
    } catch {
      // Refused, reset or timed out: the client cannot tell whether anything was stored.
      status = null;
      outcome = "no-answer";
    }
    const record: Attempt = {
      key,
      client,
      user: user.index,
      goalId: goal.id,
      quantity: body.quantity,
      occurredAt: body.occurredAt,
      attempt,
      replay,
      startedAt,
      endedAt: Date.now(),
      status,
      outcome,
      activityId,
      errorCode,
    };
    this.attempts.push(record);
    return record;
  }

  private async renewToken(user: LoadUser): Promise<void> {
    if (Date.now() - user.tokenIssuedAt < TOKEN_RENEW_MS) return;
    try {
      const response = await fetch(`${this.options.baseUrl}/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: user.email, password: user.password }),
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
      });
      const parsed = parseJson(await response.text());
      if (response.status === 200 && typeof parsed?.accessToken === "string") {
        user.token = parsed.accessToken;
        user.tokenIssuedAt = Date.now();
      }
    } catch {
      // The old token is still valid for a few minutes: try again on the next log.
    }
  }
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function errorCodeOf(body: Record<string, unknown> | null): string | null {
  const error = body?.error as { code?: unknown } | undefined;
  return typeof error?.code === "string" ? error.code : null;
}
