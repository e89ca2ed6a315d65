/**
 * The verification after a fault-injection run, from outside: what the clients were answered against what
 * the system stored (over HTTP), the derived data against a recomputation done here from the stored
 * activities, the notifications against the webhook receivers and the mail server, and the bus's
 * dead-letter stream.
 */
import { addDays, compareDates } from "../../shared/domain/calendar.ts";
import { STREAK_MILESTONES } from "../../shared/domain/streaks.ts";
import type { Api } from "../../test/helpers/api.ts";
import type { TestSmtpServer } from "../../test/helpers/smtp.ts";
import type { WebhookReceiver } from "../../test/helpers/webhook-receiver.ts";
import { type DeadLetter, POISON_BODY } from "./jetstream.ts";
import type { Attempt, LoadGoal, LoadUser, Outcome } from "./load.ts";

export interface Check {
  name: string;
  ok: boolean;
  /** One line with the figures behind the verdict. */
  summary: string;
  /** What is wrong, one item each (at most MAX_PROBLEMS kept). */
  problems: string[];
  problemCount: number;
}

const MAX_PROBLEMS = 25;

class Problems {
  readonly items: string[] = [];
  count = 0;

  add(problem: string): void {
    this.count += 1;
    if (this.items.length < MAX_PROBLEMS) this.items.push(problem);
  }

  check(name: string, summary: string): Check {
    return { name, ok: this.count === 0, summary, problems: this.items, problemCount: this.count };
  }
}

interface ActivityView {
  id: string;
  goalId: string;
  quantity: number;
  note: string | null;
  occurredAt: string;
  localDate: string;
}

interface GoalView {
  id: string;
  status: "active" | "completed" | "archived";
  progress: { value: number } | null;
  streak: { current: number; longest: number; lastMetDate: string | null } | null;
}

interface SeriesItem {
  startDate: string;
  endDate: string;
  value: number;
  met: boolean;
  skipped: boolean;
}

interface NotificationView {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

interface StatsDay {
  date: string;
  activities: number;
  quantity: number;
}

export interface ObservedGoal {
  user: LoadUser;
  goal: LoadGoal;
  view: GoalView;
  activities: ActivityView[];
  series: SeriesItem[];
}

/** Everything read back over HTTP, at one moment after the load stopped. */
export interface ObservedState {
  today: string;
  goals: ObservedGoal[];
  notifications: Map<number, NotificationView[]>;
  stats: Map<number, StatsDay[]>;
}

async function expectOk<T>(api: Api, path: string, token: string): Promise<T> {
  const response = await api.get<T>(path, { token });
  if (response.status !== 200) throw new Error(`GET ${path}: ${response.status} ${response.text}`);
  return response.body;
}

async function allPages<T>(api: Api, path: string, token: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const separator = path.includes("?") ? "&" : "?";
    const page: { items: T[]; nextCursor: string | null } = await expectOk(
      api,
      `${path}${separator}limit=100${cursor ? `&cursor=${cursor}` : ""}`,
      token,
    );
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

/** Users' calendars are UTC with days starting at midnight, so their today is the UTC date. */
export function utcToday(): string {
  return new Date().toISOString().slice(0, 10);
}

export async function observe(api: Api, users: LoadUser[]): Promise<ObservedState> {
  const today = utcToday();
  const goals: ObservedGoal[] = [];
  const notifications = new Map<number, NotificationView[]>();
  const stats = new Map<number, StatsDay[]>();
  for (const user of users) {
    for (const goal of user.goals) {
      const view = await expectOk<GoalView>(api, `/goals/${goal.id}`, user.token);
      const activities = await allPages<ActivityView>(api, `/goals/${goal.id}/activities`, user.token);
      const progress = await expectOk<{ series: SeriesItem[] }>(
        api,
        `/goals/${goal.id}/progress?from=${goal.startDate}&to=${today}`,
        user.token,
      );
      goals.push({ user, goal, view, activities, series: progress.series });
    }
    notifications.set(user.index, await allPages<NotificationView>(api, "/notifications", user.token));
    const from = user.goals.map((goal) => goal.startDate).sort()[0] ?? today;
    stats.set(
      user.index,
      await expectOk<StatsDay[]>(api, `/stats/daily?from=${from}&to=${today}`, user.token),
    );
  }
  return { today, goals, notifications, stats };
}

interface KeyRecord {
  key: string;
  attempts: Attempt[];
  /** 2xx if any attempt got one, else the outcome of the last attempt. */
  final: Outcome;
  /** Activity ids of every 2xx answer of the key, replays included. */
  answeredIds: Set<string>;
}

export function keysOf(attempts: readonly Attempt[]): Map<string, KeyRecord> {
  const keys = new Map<string, KeyRecord>();
  for (const attempt of attempts) {
    let record = keys.get(attempt.key);
    if (!record) {
      record = { key: attempt.key, attempts: [], final: attempt.outcome, answeredIds: new Set() };
      keys.set(attempt.key, record);
    }
    record.attempts.push(attempt);
    if (attempt.activityId) record.answeredIds.add(attempt.activityId);
    record.final = record.answeredIds.size > 0 ? "2xx" : attempt.outcome;
  }
  return keys;
}

function storedByNote(state: ObservedState): Map<string, ActivityView[]> {
  const byNote = new Map<string, ActivityView[]>();
  for (const { activities } of state.goals) {
    for (const activity of activities) {
      const note = activity.note ?? "";
      byNote.set(note, [...(byNote.get(note) ?? []), activity]);
    }
  }
  return byNote;
}

/** (a) Every log answered 2xx is stored exactly once, as the activity it was answered with; no key twice. */
export function checkExactlyOnce(attempts: readonly Attempt[], state: ObservedState): Check {
  const problems = new Problems();
  const keys = keysOf(attempts);
  const stored = storedByNote(state);
  let succeeded = 0;
  let replays = 0;
  for (const record of keys.values()) {
    const copies = stored.get(record.key) ?? [];
    if (copies.length > 1) {
      problems.add(`key ${record.key} (${record.final}) is stored ${copies.length} times`);
    }
    replays += record.attempts.filter((attempt) => attempt.replay && attempt.outcome === "2xx").length;
    if (record.final !== "2xx") continue;
    succeeded += 1;
    if (record.answeredIds.size > 1) {
      problems.add(`key ${record.key} was answered with ${record.answeredIds.size} different activities`);
    }
    if (copies.length === 0) problems.add(`key ${record.key} got a 2xx but no activity is stored (lost)`);
    else if (!copies.some((copy) => record.answeredIds.has(copy.id))) {
      problems.add(
        `key ${record.key} got a 2xx for ${[...record.answeredIds][0]}, stored as ${copies[0]!.id}`,
      );
    }
  }
  return problems.check(
    "every 2xx stored exactly once",
    `${succeeded} keys answered 2xx (${replays} replays answered the same activity); ${problems.count} problems`,
  );
}

/**
 * (b) What was stored is what was asked: each stored activity belongs to a request (by its key in the note)
 * with the same goal, quantity and instant; a key answered only 4xx stored nothing. Activities of keys that
 * got a 5xx or no answer may exist: they must be whole, which the derived-data check proves.
 */
export function checkStoredMatchesRequests(attempts: readonly Attempt[], state: ObservedState): Check {
  const problems = new Problems();
  const keys = keysOf(attempts);
  let storedAfterFailure = 0;
  let failedKeys = 0;
  let total = 0;
  for (const { activities } of state.goals) {
    for (const activity of activities) {
      total += 1;
      const record = keys.get(activity.note ?? "");
      if (!record) {
        problems.add(`activity ${activity.id} (note ${JSON.stringify(activity.note)}) matches no request`);
        continue;
      }
      const asked = record.attempts[0]!;
      if (
        asked.goalId !== activity.goalId ||
        asked.quantity !== activity.quantity ||
        new Date(asked.occurredAt).getTime() !== new Date(activity.occurredAt).getTime()
      ) {
        problems.add(`activity ${activity.id} differs from its request ${record.key}`);
      }
      if (record.attempts.every((attempt) => attempt.outcome === "4xx")) {
        problems.add(`key ${record.key} was refused (${asked.errorCode}) yet ${activity.id} is stored`);
      }
      if (record.final === "5xx" || record.final === "no-answer") storedAfterFailure += 1;
    }
  }
  for (const record of keys.values())
    if (record.final === "5xx" || record.final === "no-answer") failedKeys += 1;
  return problems.check(
    "stored activities match their requests",
    `${total} activities stored; ${failedKeys} keys ended without a 2xx, ${storedAfterFailure} of them stored anyway (checked whole below)`,
  );
}

type Status = "met" | "missed" | "pending" | "skipped";

function dayTotals(activities: readonly ActivityView[]): Map<string, number> {
  const totals = new Map<string, number>();
  for (const activity of activities) {
    totals.set(activity.localDate, (totals.get(activity.localDate) ?? 0) + activity.quantity);
  }
  return totals;
}

/** A period's value and status, recomputed here from the stored activities by the contract's rules. */
function expectedPeriod(
  goal: LoadGoal,
  period: { startDate: string; endDate: string },
  totals: Map<string, number>,
  today: string,
): { value: number; status: Status } {
  const ended = compareDates(period.endDate, today) < 0;
  const unresolved: Status = ended ? "missed" : "pending";
  if (goal.pattern === "frequency") {
    let completed = 0;
    let days = 0;
    for (let date = period.startDate; compareDates(date, period.endDate) <= 0; date = addDays(date, 1)) {
      days += 1;
      if ((totals.get(date) ?? 0) >= (goal.rules.target ?? 1)) completed += 1;
    }
    const required = Math.min(goal.rules.timesPerPeriod ?? 1, days);
    return { value: completed, status: completed >= required ? "met" : unresolved };
  }
  const value = totals.get(period.startDate) ?? 0;
  switch (goal.pattern) {
    case "daily":
      return { value, status: value >= (goal.rules.target ?? 1) ? "met" : unresolved };
    case "target":
      return { value, status: value > 0 ? "met" : unresolved };
    case "limit":
      if (value > (goal.rules.limit ?? 0)) return { value, status: "missed" };
      return { value, status: ended ? "met" : "pending" };
  }
}

/** The contract's streak: consecutive met periods up to the latest met one, broken by a missed one. */
function foldStreak(periods: readonly { startDate: string; status: Status }[]) {
  let current = 0;
  let longest = 0;
  let lastMetDate: string | null = null;
  for (const period of periods) {
    if (period.status === "met") {
      current += 1;
      longest = Math.max(longest, current);
      lastMetDate = period.startDate;
    } else if (period.status === "missed") current = 0;
  }
  return { current, longest, lastMetDate };
}

/**
 * (b, c) Every activity counts, once: each goal's progress, every period of its series and its streak equal
 * a recomputation from its stored activities; each user's daily stats equal the stored counts and sums.
 */
export function checkDerivedData(state: ObservedState): Check {
  const problems = new Problems();
  let periods = 0;
  for (const { goal, view, activities, series } of state.goals) {
    const totals = dayTotals(activities);
    const sum = activities.reduce((total, activity) => total + activity.quantity, 0);
    if (goal.pattern === "target") {
      if (view.progress?.value !== sum)
        problems.add(
          `target goal ${goal.id}: progress ${view.progress?.value}, stored activities sum ${sum}`,
        );
      const completed = sum >= (goal.rules.target ?? Infinity);
      if (completed !== (view.status === "completed"))
        problems.add(`target goal ${goal.id}: status ${view.status} with ${sum} of ${goal.rules.target}`);
    }
    const expected = series.map((item) => ({
      startDate: item.startDate,
      ...expectedPeriod(goal, item, totals, state.today),
    }));
    series.forEach((item, index) => {
      periods += 1;
      const want = expected[index]!;
      if (item.value !== want.value || item.met !== (want.status === "met")) {
        problems.add(
          `${goal.pattern} goal ${goal.id}, period ${item.startDate}: value ${item.value} met ${item.met}, recomputed ${want.value} ${want.status}`,
        );
      }
    });
    const lastPeriod = series[series.length - 1];
    if (!lastPeriod || compareDates(lastPeriod.endDate, state.today) < 0) {
      problems.add(`${goal.pattern} goal ${goal.id}: the series does not reach today`);
    }
    const streak = foldStreak(expected);
    const shown = view.streak;
    if (
      !shown ||
      shown.current !== streak.current ||
      shown.longest !== streak.longest ||
      shown.lastMetDate !== streak.lastMetDate
    ) {
      problems.add(
        `${goal.pattern} goal ${goal.id}: streak ${JSON.stringify(shown)}, recomputed ${JSON.stringify(streak)}`,
      );
    }
  }
  let days = 0;
  for (const [userIndex, statsDays] of state.stats) {
    const stored = new Map<string, { activities: number; quantity: number }>();
    for (const { user, activities } of state.goals) {
      if (user.index !== userIndex) continue;
      for (const activity of activities) {
        const day = stored.get(activity.localDate) ?? { activities: 0, quantity: 0 };
        day.activities += 1;
        day.quantity += activity.quantity;
        stored.set(activity.localDate, day);
      }
    }
    for (const day of statsDays) {
      days += 1;
      const want = stored.get(day.date) ?? { activities: 0, quantity: 0 };
      if (day.activities !== want.activities || day.quantity !== want.quantity) {
        problems.add(
          `user ${userIndex} stats ${day.date}: ${day.activities} activities / ${day.quantity}, stored ${want.activities} / ${want.quantity}`,
        );
      }
    }
  }
  return problems.check(
    "progress, periods, streaks and stats equal a recomputation",
    `${state.goals.length} goals, ${periods} periods and ${days} user-days recomputed from the stored activities; ${problems.count} differ`,
  );
}

/** The natural once-only key of a notification, from what the API shows of it (see the contract). */
function naturalKey(notification: NotificationView): string {
  const data = notification.data;
  const detail =
    notification.type === "streak.milestone"
      ? data.milestone
      : notification.type === "streak.broken"
        ? data.lastMetDate
        : notification.type === "streak.at_risk"
          ? data.date
          : notification.type === "weekly.summary"
            ? data.weekStartDate
            : "";
  return `${notification.type}:${String(data.goalId ?? "")}:${String(detail)}`;
}

/**
 * (d) No notification twice (per type, goal and period), none lost: every streak milestone a goal's current
 * streak has reached is there once (streaks of daily, frequency and target goals only grow under this load),
 * a completed target goal has its one completion.
 */
export function checkNotifications(state: ObservedState): Check {
  const problems = new Problems();
  let total = 0;
  for (const [userIndex, list] of state.notifications) {
    total += list.length;
    const seen = new Map<string, number>();
    for (const notification of list) {
      const key = naturalKey(notification);
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    for (const [key, count] of seen)
      if (count > 1) problems.add(`user ${userIndex}: ${key} notified ${count} times`);
    for (const { user, goal, view } of state.goals) {
      if (user.index !== userIndex) continue;
      const ofGoal = list.filter((notification) => notification.data.goalId === goal.id);
      const milestones = new Set(
        ofGoal.filter((n) => n.type === "streak.milestone").map((n) => Number(n.data.milestone)),
      );
      // Under this load the current streak of these patterns only grows (a day passing at midnight aside),
      // so it has crossed every milestone up to it; none above the longest run can have been reached.
      if (goal.pattern !== "limit") {
        const current = view.streak?.current ?? 0;
        const longest = view.streak?.longest ?? 0;
        for (const milestone of STREAK_MILESTONES) {
          if (milestone <= current && !milestones.has(milestone))
            problems.add(
              `${goal.pattern} goal ${goal.id}: streak ${current} but no milestone ${milestone} notification`,
            );
          if (milestone > longest && milestones.has(milestone))
            problems.add(
              `${goal.pattern} goal ${goal.id}: milestone ${milestone} notified, longest streak ${longest}`,
            );
        }
      }
      const completions = ofGoal.filter((n) => n.type === "goal.completed").length;
      const completed = view.status === "completed" ? 1 : 0;
      if (completions !== completed)
        problems.add(`goal ${goal.id} (${view.status}): ${completions} completion notifications`);
    }
  }
  return problems.check(
    "notifications once each, none missing",
    `${total} notifications over ${state.notifications.size} users; ${problems.count} problems`,
  );
}

/**
 * (d) Webhooks: each delivery id and each notification accepted (answered 2xx by the receiver) exactly once;
 * attempts the receiver refused with a 5xx are retried, as they should be. Signatures all valid.
 */
export function checkWebhooks(
  state: ObservedState,
  receivers: Map<number, WebhookReceiver>,
  respond: (n: number) => number,
): Check {
  const problems = new Problems();
  let accepted = 0;
  let refused = 0;
  for (const [userIndex, receiver] of receivers) {
    const byDelivery = new Map<string, number>();
    const byNotification = new Map<string, number>();
    receiver.received.forEach((receipt, index) => {
      if (!receipt.signatureValid) problems.add(`user ${userIndex}: a webhook with an invalid signature`);
      if (respond(index + 1) >= 300) {
        refused += 1;
        return;
      }
      accepted += 1;
      const delivery = String(receipt.headers["x-webhook-id"]);
      byDelivery.set(delivery, (byDelivery.get(delivery) ?? 0) + 1);
      const notificationId = String((JSON.parse(receipt.body) as { id?: unknown }).id);
      byNotification.set(notificationId, (byNotification.get(notificationId) ?? 0) + 1);
    });
    for (const [delivery, count] of byDelivery)
      if (count > 1) problems.add(`user ${userIndex}: delivery ${delivery} accepted ${count} times`);
    const known = new Set((state.notifications.get(userIndex) ?? []).map((n) => n.id));
    for (const id of known)
      if (!byNotification.has(id)) problems.add(`user ${userIndex}: notification ${id} never delivered`);
    for (const id of byNotification.keys())
      if (!known.has(id)) problems.add(`user ${userIndex}: webhook for unknown notification ${id}`);
  }
  return problems.check(
    "webhooks accepted once each, none missing",
    `${accepted} deliveries accepted, ${refused} refused with a 5xx by the receivers (and retried); ${problems.count} problems`,
  );
}

/** (d) Email: one mail per notification (every type is on by default), none twice, none unknown. */
export function checkEmails(state: ObservedState, smtp: TestSmtpServer): Check {
  const problems = new Problems();
  const byNotification = new Map<string, number>();
  for (const mail of smtp.mails) {
    const id = mail.headers["x-notification-id"] ?? "";
    byNotification.set(id, (byNotification.get(id) ?? 0) + 1);
  }
  for (const [id, count] of byNotification)
    if (count > 1) problems.add(`notification ${id} mailed ${count} times`);
  const known = new Set<string>();
  for (const list of state.notifications.values()) for (const n of list) known.add(n.id);
  for (const id of known) if (!byNotification.has(id)) problems.add(`notification ${id} never mailed`);
  for (const id of byNotification.keys())
    if (!known.has(id)) problems.add(`mail for unknown notification ${id}`);
  return problems.check(
    "emails sent once each, none missing",
    `${smtp.mails.length} mails for ${known.size} notifications; ${problems.count} problems`,
  );
}

/** The sum of a Prometheus metric's samples whose labels include `labels`, from a process's /metrics. */
async function metricSum(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(url, { signal: AbortSignal.timeout(5000) })).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map(([, key, value]) => [key, value]),
    );
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) sum += Number(match[3]);
  }
  return sum;
}

export interface VerificationEndpoints {
  /** The streak process's /metrics: `streak_drift_repaired_total`. */
  streakMetricsUrl: string;
  /** The aggregation process's /metrics: the job's runs and processed items. */
  aggregationMetricsUrl: string;
}

/**
 * (c) The nightly verification, run now: every goal's stored streak against a full recomputation from the
 * activity service's records. Drift is reported as the streak process's `streak_drift_repaired_total`.
 * The route answers within the gateway's 15 s; a longer job goes on and is followed by its metrics.
 */
export async function checkStreakVerification(
  api: Api,
  adminToken: string,
  endpoints: VerificationEndpoints,
  goalCount: number,
  timeoutMs: number,
): Promise<Check> {
  const problems = new Problems();
  const job = { job: "verify-streaks" };
  const drift = () => metricSum(endpoints.streakMetricsUrl, "streak_drift_repaired_total");
  const runs = (outcome: string) =>
    metricSum(endpoints.aggregationMetricsUrl, "job_runs_total", { ...job, outcome });
  const items = () => metricSum(endpoints.aggregationMetricsUrl, "job_items_processed_total", job);
  const driftBefore = await drift();
  const [successesBefore, failuresBefore, itemsBefore] = [
    await runs("success"),
    await runs("failure"),
    await items(),
  ];
  const started = Date.now();
  const response = await api.post<{ processed: number }>("/admin/jobs/verify-streaks/run", undefined, {
    token: adminToken,
  });
  let processed: number | null = response.status === 200 ? response.body.processed : null;
  if (processed === null) {
    while (Date.now() - started < timeoutMs) {
      if ((await runs("success")) > successesBefore) {
        processed = (await items()) - itemsBefore;
        break;
      }
      if ((await runs("failure")) > failuresBefore) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (processed === null) {
    problems.add(`verify-streaks did not finish (the route answered ${response.status} ${response.text})`);
    return problems.check("verify-streaks finds no drift", `the job did not finish in ${seconds} s`);
  }
  const drifted = (await drift()) - driftBefore;
  if (processed !== goalCount) problems.add(`verify-streaks checked ${processed} goals, ${goalCount} exist`);
  if (drifted !== 0)
    problems.add(`${drifted} goals had drifted from a full recomputation (repaired by the job)`);
  return problems.check(
    "verify-streaks finds no drift",
    `${processed} goals checked in ${seconds} s, ${drifted} drifted`,
  );
}

/** (e) The dead-letter stream holds the poison message the run published, and nothing else. */
export function checkDeadLetters(letters: readonly DeadLetter[], poisonSubject: string): Check {
  const problems = new Problems();
  const poison = letters.filter((letter) => letter.subject === poisonSubject && letter.body === POISON_BODY);
  if (poison.length !== 1)
    problems.add(`the poison message is in the dead-letter stream ${poison.length} times`);
  for (const letter of letters) {
    if (letter.subject === poisonSubject && letter.body === POISON_BODY) continue;
    problems.add(`unexpected dead letter on ${letter.subject} (group ${letter.group}): ${letter.error}`);
  }
  return problems.check(
    "dead-letter stream holds only the poison message",
    `${letters.length} dead letters, ${poison.length} of them the poison message`,
  );
}
