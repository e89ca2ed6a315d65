import { expect } from "chai";
import { registerUser, type Session } from "../helpers/api.ts";
import { useStack } from "../helpers/stack.ts";

type ErrorBody = { error: { code: string; status: number; details?: { path: string }[] } };
interface Activity {
  id: string;
  goalId: string;
  quantity: number;
  note: string | null;
  occurredAt: string;
  localDate: string;
  milestoneId: string | null;
}
interface Goal {
  id: string;
  status: string;
  version: number;
  milestones?: { id: string; completedAt: string | null }[];
  streak: { current: number; longest: number; lastMetDate: string | null } | null;
  strength: number | null;
  progress: {
    value: number;
    goal: number;
    met: boolean;
    periodStartDate: string;
    periodEndDate: string;
  } | null;
}

const DAY = 86_400_000;
const isoDaysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString();
const dateDaysAgo = (n: number) => isoDaysAgo(n).slice(0, 10);

describe("Activities, streaks and progress over HTTP", function () {
  const sys = useStack();
  let user: Session;
  const auth = () => ({ token: user.accessToken });
  const newGoal = async (body: Record<string, unknown>) =>
    (await sys.api.post<Goal>("/goals", { title: "goal", startDate: dateDaysAgo(30), ...body }, auth())).body;
  const goal = async (id: string) => (await sys.api.get<Goal>(`/goals/${id}`, auth())).body;

  before(async () => {
    user = await registerUser(sys.api);
  });

  describe("POST /goals/:id/activities", () => {
    it("logs a quantity of 1 now by default, stamped with the user's local date", async () => {
      const { id } = await newGoal({ pattern: "daily" });
      const response = await sys.api.post<Activity>(`/goals/${id}/activities`, {}, auth());
      expect(response.status).to.equal(201);
      expect(response.body).to.include({
        goalId: id,
        quantity: 1,
        note: null,
        milestoneId: null,
        localDate: dateDaysAgo(0),
      });
    });

    it("is read-after-write: the goal read right after shows the new streak and progress", async () => {
      const { id } = await newGoal({ pattern: "daily", target: 2 });
      await sys.api.post(`/goals/${id}/activities`, { quantity: 2 }, auth());
      const after = await goal(id);
      expect(after.streak).to.deep.equal({ current: 1, longest: 1, lastMetDate: dateDaysAgo(0) });
      expect(after.progress).to.include({ value: 2, goal: 2, met: true });
      expect(after.strength).to.be.closeTo(0.0519, 0.0001);
    });

    it("refuses the future (beyond 5 minutes) and dates before the goal's start (422 INVALID_DATE_RANGE)", async () => {
      const { id } = await newGoal({ pattern: "daily", startDate: dateDaysAgo(2) });
      const future = await sys.api.post<ErrorBody>(
        `/goals/${id}/activities`,
        { occurredAt: new Date(Date.now() + 10 * 60_000).toISOString() },
        auth(),
      );
      expect(future.status).to.equal(422);
      expect(future.body.error.code).to.equal("INVALID_DATE_RANGE");
      const soon = await sys.api.post(
        `/goals/${id}/activities`,
        { occurredAt: new Date(Date.now() + 60_000).toISOString() },
        auth(),
      );
      expect(soon.status).to.equal(201);
      const before = await sys.api.post<ErrorBody>(
        `/goals/${id}/activities`,
        { occurredAt: isoDaysAgo(5) },
        auth(),
      );
      expect(before.body.error.code).to.equal("INVALID_DATE_RANGE");
    });

    it("validates the body (422): quantity > 0, note ≤ 500, an instant for occurredAt", async () => {
      const { id } = await newGoal({ pattern: "daily" });
      const response = await sys.api.post<ErrorBody>(
        `/goals/${id}/activities`,
        { quantity: 0, note: "x".repeat(501), occurredAt: "yesterday" },
        auth(),
      );
      expect(response.status).to.equal(422);
      expect(response.body.error.details?.map((d) => d.path)).to.have.members([
        "/quantity",
        "/note",
        "/occurredAt",
      ]);
    });
  });

  describe("Idempotency-Key", () => {
    it("answers a replay with the first response and stores nothing new", async () => {
      const { id } = await newGoal({ pattern: "daily" });
      const headers = { "idempotency-key": "replay-1" };
      const first = await sys.api.post<Activity>(
        `/goals/${id}/activities`,
        { quantity: 3 },
        { ...auth(), headers },
      );
      const again = await sys.api.post<Activity>(
        `/goals/${id}/activities`,
        { quantity: 3 },
        { ...auth(), headers },
      );
      expect(again.status).to.equal(201);
      expect(again.body).to.deep.equal(first.body);
      const list = await sys.api.get<{ items: Activity[] }>(`/goals/${id}/activities`, auth());
      expect(list.body.items).to.have.length(1);
    });

    it("refuses the same key with another body (422 IDEMPOTENCY_KEY_REUSED)", async () => {
      const { id } = await newGoal({ pattern: "daily" });
      const headers = { "idempotency-key": "reused-1" };
      await sys.api.post(`/goals/${id}/activities`, { quantity: 1 }, { ...auth(), headers });
      const other = await sys.api.post<ErrorBody>(
        `/goals/${id}/activities`,
        { quantity: 2 },
        { ...auth(), headers },
      );
      expect(other.status).to.equal(422);
      expect(other.body.error.code).to.equal("IDEMPOTENCY_KEY_REUSED");
    });

    it("stores one activity when requests with one key race", async () => {
      const { id } = await newGoal({ pattern: "daily" });
      const headers = { "idempotency-key": "race-1" };
      const answers = await Promise.all(
        Array.from({ length: 5 }, () =>
          sys.api.post<Activity>(`/goals/${id}/activities`, { quantity: 1 }, { ...auth(), headers }),
        ),
      );
      expect(new Set(answers.map((a) => a.status))).to.deep.equal(new Set([201]));
      expect(new Set(answers.map((a) => a.body.id)).size).to.equal(1);
      const list = await sys.api.get<{ items: Activity[] }>(`/goals/${id}/activities`, auth());
      expect(list.body.items).to.have.length(1);
    });

    it("scopes keys per user", async () => {
      const other = await registerUser(sys.api);
      const mine = await newGoal({ pattern: "daily" });
      const theirs = (
        await sys.api.post<Goal>("/goals", { pattern: "daily", title: "t" }, { token: other.accessToken })
      ).body;
      const headers = { "idempotency-key": "shared-key" };
      const a = await sys.api.post<Activity>(`/goals/${mine.id}/activities`, {}, { ...auth(), headers });
      const b = await sys.api.post<Activity>(
        `/goals/${theirs.id}/activities`,
        {},
        { token: other.accessToken, headers },
      );
      expect(b.status).to.equal(201);
      expect(b.body.id).to.not.equal(a.body.id);
    });
  });

  describe("streaks from backdated logs, edits and deletes", () => {
    it("counts consecutive met days, and a missed day breaks the current streak but not the longest", async () => {
      const { id } = await newGoal({ pattern: "daily" });
      for (const n of [6, 5, 4, 2, 1])
        await sys.api.post(`/goals/${id}/activities`, { occurredAt: isoDaysAgo(n) }, auth());
      expect((await goal(id)).streak).to.deep.equal({ current: 2, longest: 3, lastMetDate: dateDaysAgo(1) });
      const filled = await sys.api.post<Activity>(
        `/goals/${id}/activities`,
        { occurredAt: isoDaysAgo(3) },
        auth(),
      );
      expect((await goal(id)).streak).to.deep.equal({ current: 6, longest: 6, lastMetDate: dateDaysAgo(1) });
      expect((await sys.api.delete(`/activities/${filled.body.id}`, auth())).status).to.equal(204);
      expect((await goal(id)).streak).to.deep.equal({ current: 2, longest: 3, lastMetDate: dateDaysAgo(1) });
    });

    it("recomputes when an activity moves to another day or changes quantity", async () => {
      const { id } = await newGoal({ pattern: "daily", target: 2 });
      const a = await sys.api.post<Activity>(
        `/goals/${id}/activities`,
        { quantity: 2, occurredAt: isoDaysAgo(1) },
        auth(),
      );
      expect((await goal(id)).streak?.current).to.equal(1);
      const smaller = await sys.api.patch<Activity>(`/activities/${a.body.id}`, { quantity: 1 }, auth());
      expect(smaller.body.quantity).to.equal(1);
      expect((await goal(id)).streak?.current).to.equal(0);
      const moved = await sys.api.patch<Activity>(
        `/activities/${a.body.id}`,
        { quantity: 2, occurredAt: isoDaysAgo(0) },
        auth(),
      );
      expect(moved.body.localDate).to.equal(dateDaysAgo(0));
      expect((await goal(id)).streak).to.deep.equal({ current: 1, longest: 1, lastMetDate: dateDaysAgo(0) });
    });

    it("passes over skipped days: they neither count nor break", async () => {
      const { id } = await newGoal({ pattern: "daily" });
      await sys.api.post(`/goals/${id}/activities`, { occurredAt: isoDaysAgo(3) }, auth());
      await sys.api.post(`/goals/${id}/activities`, { occurredAt: isoDaysAgo(1) }, auth());
      expect((await goal(id)).streak?.current).to.equal(1);
      await sys.api.post(`/goals/${id}/skips`, { date: dateDaysAgo(2) }, auth());
      expect((await goal(id)).streak).to.deep.equal({ current: 2, longest: 2, lastMetDate: dateDaysAgo(1) });
      await sys.api.delete(`/goals/${id}/skips/${dateDaysAgo(2)}`, auth());
      expect((await goal(id)).streak?.current).to.equal(1);
    });

    it("a limit goal over its limit is missed at once: the current streak is 0", async () => {
      const { id } = await newGoal({ pattern: "limit", limit: 2, period: "day", startDate: dateDaysAgo(3) });
      expect((await goal(id)).streak?.current).to.equal(3);
      await sys.api.post(`/goals/${id}/activities`, { quantity: 3 }, auth());
      const after = await goal(id);
      expect(after.streak?.current).to.equal(0);
      expect(after.streak?.longest).to.equal(3);
    });
  });

  describe("completion", () => {
    it("completes a target goal when reached, then refuses logs (409 GOAL_ALREADY_COMPLETED); raising the target reopens it", async () => {
      const { id } = await newGoal({ pattern: "target", target: 10, endDate: "2099-01-01" });
      await sys.api.post(`/goals/${id}/activities`, { quantity: 4 }, auth());
      expect((await goal(id)).progress).to.include({ value: 4, goal: 10 });
      await sys.api.post(`/goals/${id}/activities`, { quantity: 6 }, auth());
      const done = await goal(id);
      expect(done.status).to.equal("completed");
      const refused = await sys.api.post<ErrorBody>(`/goals/${id}/activities`, {}, auth());
      expect(refused.status).to.equal(409);
      expect(refused.body.error.code).to.equal("GOAL_ALREADY_COMPLETED");
      const raised = await sys.api.patch<Goal>(`/goals/${id}`, { target: 20 }, auth());
      expect(raised.body.status).to.equal("active");
      expect((await sys.api.post(`/goals/${id}/activities`, { quantity: 1 }, auth())).status).to.equal(201);
    });

    it("completes a milestone goal when every milestone is logged", async () => {
      const created = await newGoal({ pattern: "milestone", milestones: [{ title: "a" }, { title: "b" }] });
      const [a, b] = created.milestones!;
      const first = await sys.api.post<Activity>(
        `/goals/${created.id}/activities`,
        { milestoneId: a!.id },
        auth(),
      );
      expect(first.body.milestoneId).to.equal(a!.id);
      const half = await goal(created.id);
      expect(half.progress).to.include({ value: 1, goal: 2 });
      expect(half.status).to.equal("active");
      await sys.api.post(`/goals/${created.id}/activities`, { milestoneId: b!.id }, auth());
      expect((await goal(created.id)).status).to.equal("completed");
      const wrong = await sys.api.post<ErrorBody>(
        `/goals/${created.id}/activities`,
        { milestoneId: "nope" },
        auth(),
      );
      expect(wrong.status).to.be.oneOf([409, 422]);
    });
  });

  describe("listing, editing and deleting activities", () => {
    it("lists newest first between two local dates, with a cursor", async () => {
      const { id } = await newGoal({ pattern: "daily" });
      for (const n of [4, 3, 2, 1])
        await sys.api.post(`/goals/${id}/activities`, { occurredAt: isoDaysAgo(n) }, auth());
      const page = await sys.api.get<{ items: Activity[]; nextCursor: string | null }>(
        `/goals/${id}/activities?from=${dateDaysAgo(3)}&to=${dateDaysAgo(1)}&limit=2`,
        auth(),
      );
      expect(page.body.items.map((a) => a.localDate)).to.deep.equal([dateDaysAgo(1), dateDaysAgo(2)]);
      const next = await sys.api.get<{ items: Activity[]; nextCursor: string | null }>(
        `/goals/${id}/activities?from=${dateDaysAgo(3)}&to=${dateDaysAgo(1)}&limit=2&cursor=${page.body.nextCursor}`,
        auth(),
      );
      expect(next.body.items.map((a) => a.localDate)).to.deep.equal([dateDaysAgo(3)]);
      expect(next.body.nextCursor).to.equal(null);
    });

    it("answers 404 ACTIVITY_NOT_FOUND for someone else's activity", async () => {
      const { id } = await newGoal({ pattern: "daily" });
      const activity = await sys.api.post<Activity>(`/goals/${id}/activities`, {}, auth());
      const stranger = await registerUser(sys.api);
      for (const response of [
        await sys.api.patch<ErrorBody>(
          `/activities/${activity.body.id}`,
          { quantity: 5 },
          { token: stranger.accessToken },
        ),
        await sys.api.delete<ErrorBody>(`/activities/${activity.body.id}`, { token: stranger.accessToken }),
      ]) {
        expect(response.status).to.equal(404);
        expect(response.body.error.code).to.equal("ACTIVITY_NOT_FOUND");
      }
    });
  });

  describe("POST /activities/bulk", () => {
    it("logs each item on its own: one bad item does not sink the others", async () => {
      const { id } = await newGoal({ pattern: "daily" });
      const response = await sys.api.post<{
        results: {
          index: number;
          status: number;
          clientId?: string;
          activity?: Activity;
          error?: { code: string };
        }[];
      }>(
        "/activities/bulk",
        {
          items: [
            { goalId: id, quantity: 2, clientId: "a" },
            { goalId: "missing-goal", clientId: "b" },
            { goalId: id, occurredAt: new Date(Date.now() + DAY).toISOString(), clientId: "c" },
            { goalId: id, occurredAt: isoDaysAgo(1), clientId: "d" },
          ],
        },
        auth(),
      );
      expect(response.status).to.equal(200);
      expect(response.body.results.map((r) => [r.index, r.status, r.clientId])).to.deep.equal([
        [0, 201, "a"],
        [1, 404, "b"],
        [2, 422, "c"],
        [3, 201, "d"],
      ]);
      expect(response.body.results[1]!.error?.code).to.equal("GOAL_NOT_FOUND");
      expect(response.body.results[2]!.error?.code).to.equal("INVALID_DATE_RANGE");
      expect((await goal(id)).streak?.current).to.equal(2);
    });
  });
});

describe("Local dates follow the user's zone and day start", function () {
  const sys = useStack();

  it("stamps 02:30 local as the previous day with dayStartHour 4, and keeps it when the zone changes later", async () => {
    const user = await registerUser(sys.api, { timezone: "Asia/Kolkata" });
    const token = user.accessToken;
    await sys.api.patch("/me", { dayStartHour: 4 }, { token });
    const goal = (
      await sys.api.post<Goal>(
        "/goals",
        { pattern: "daily", title: "late night", startDate: "2020-01-01" },
        { token },
      )
    ).body;
    // 2026-03-21 02:30 in Kolkata (UTC+05:30) is 2026-03-20 21:00 UTC.
    const late = await sys.api.post<Activity>(
      `/goals/${goal.id}/activities`,
      { occurredAt: "2026-03-20T21:00:00.000Z" },
      { token },
    );
    expect(late.body.localDate).to.equal("2026-03-20");
    const morning = await sys.api.post<Activity>(
      `/goals/${goal.id}/activities`,
      { occurredAt: "2026-03-20T23:00:00.000Z" },
      { token },
    );
    expect(morning.body.localDate).to.equal("2026-03-21");
    await sys.api.patch("/me", { timezone: "America/New_York", dayStartHour: 0 }, { token });
    const list = await sys.api.get<{ items: Activity[] }>(
      `/goals/${goal.id}/activities?from=2026-03-20&to=2026-03-21`,
      { token },
    );
    expect(list.body.items.map((a) => a.localDate).sort()).to.deep.equal(["2026-03-20", "2026-03-21"]);
  });

  it("puts the same instant on different dates across the date line", async () => {
    const east = await registerUser(sys.api, { timezone: "Pacific/Kiritimati" });
    const west = await registerUser(sys.api, { timezone: "Pacific/Pago_Pago" });
    const instant = "2026-06-01T11:00:00.000Z";
    const dates = [];
    for (const person of [east, west]) {
      const goal = (
        await sys.api.post<Goal>(
          "/goals",
          { pattern: "daily", title: "x", startDate: "2026-01-01" },
          { token: person.accessToken },
        )
      ).body;
      dates.push(
        (
          await sys.api.post<Activity>(
            `/goals/${goal.id}/activities`,
            { occurredAt: instant },
            { token: person.accessToken },
          )
        ).body.localDate,
      );
    }
    expect(dates).to.deep.equal(["2026-06-02", "2026-06-01"]);
  });
});

describe("Progress over time", function () {
  const sys = useStack();

  it("answers one series item per week for a frequency goal: days meeting the target, met or not", async () => {
    const user = await registerUser(sys.api);
    const token = user.accessToken;
    const today = new Date();
    const dow = (today.getUTCDay() + 6) % 7; // days since Monday (weekStart monday)
    const monday = (weeksBack: number) =>
      new Date(
        Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - dow - 7 * weeksBack),
      );
    const at = (date: Date, plusDays: number) =>
      new Date(date.getTime() + plusDays * DAY + 12 * 3_600_000).toISOString();
    const start = monday(2).toISOString().slice(0, 10);
    const goal = (
      await sys.api.post<Goal>(
        "/goals",
        { pattern: "frequency", title: "Gym", timesPerPeriod: 2, period: "week", startDate: start },
        { token },
      )
    ).body;
    await sys.api.post(`/goals/${goal.id}/activities`, { occurredAt: at(monday(2), 2) }, { token });
    await sys.api.post(`/goals/${goal.id}/activities`, { occurredAt: at(monday(1), 0) }, { token });
    await sys.api.post(`/goals/${goal.id}/activities`, { occurredAt: at(monday(1), 1) }, { token });
    await sys.api.post(`/goals/${goal.id}/activities`, { occurredAt: at(monday(1), 1) }, { token });
    const response = await sys.api.get<{
      goalId: string;
      series: { startDate: string; value: number; met: boolean; skipped: boolean }[];
    }>(`/goals/${goal.id}/progress?from=${start}&to=${today.toISOString().slice(0, 10)}`, { token });
    expect(response.status).to.equal(200);
    expect(response.body.series.map((item) => [item.startDate, item.value, item.met])).to.deep.equal([
      [start, 1, false],
      [monday(1).toISOString().slice(0, 10), 2, true],
      [monday(0).toISOString().slice(0, 10), 0, false],
    ]);
    const current = (await sys.api.get<Goal>(`/goals/${goal.id}`, { token })).body;
    expect(current.streak).to.deep.equal({
      current: 1,
      longest: 1,
      lastMetDate: monday(1).toISOString().slice(0, 10),
    });
  });

  it("shows a target goal's total, expected pace and projected date", async () => {
    const user = await registerUser(sys.api);
    const token = user.accessToken;
    const goal = (
      await sys.api.post<Goal>(
        "/goals",
        {
          pattern: "target",
          title: "Read 100 chapters",
          target: 100,
          startDate: dateDaysAgo(9),
          endDate: "2099-12-31",
        },
        { token },
      )
    ).body;
    for (const n of [4, 3, 2, 1, 0])
      await sys.api.post(
        `/goals/${goal.id}/activities`,
        { quantity: 10, occurredAt: isoDaysAgo(n) },
        { token },
      );
    const progress = (
      await sys.api.get<{ current: Record<string, unknown> }>(`/goals/${goal.id}/progress`, { token })
    ).body.current;
    expect(progress).to.include({ value: 50, goal: 100, percent: 50, met: false });
    expect(progress.expectedByNow).to.be.a("number");
    expect(progress.projectedDate).to.match(/^\d{4}-\d{2}-\d{2}$/);
  });

  it("refuses a range over 366 days or running backwards (422 INVALID_DATE_RANGE)", async () => {
    const user = await registerUser(sys.api);
    const goal = (
      await sys.api.post<Goal>("/goals", { pattern: "daily", title: "x" }, { token: user.accessToken })
    ).body;
    for (const query of ["from=2024-01-01&to=2025-06-01", "from=2026-02-01&to=2026-01-01"]) {
      const response = await sys.api.get<ErrorBody>(`/goals/${goal.id}/progress?${query}`, {
        token: user.accessToken,
      });
      expect(response.status, query).to.equal(422);
      expect(response.body.error.code).to.equal("INVALID_DATE_RANGE");
    }
  });
});

describe("When the streak service is down", function () {
  const sys = useStack();
  let token: string;
  let goalId: string;

  before(async function () {
    this.timeout(60_000);
    token = (await registerUser(sys.api)).accessToken;
    goalId = (await sys.api.post<Goal>("/goals", { pattern: "daily", title: "Resilient" }, { token })).body
      .id;
    await sys.stack.stopService("streak");
    const deadline = Date.now() + 30_000;
    while ((await sys.api.get("/ready")).status !== 503 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });

  it("still logs (201): the durable channel brings the streak up to date later", async () => {
    const response = await sys.api.post<Activity>(`/goals/${goalId}/activities`, {}, { token });
    expect(response.status).to.equal(201);
  });

  it("answers a goal read with 503 SERVICE_UNAVAILABLE, but a change that was stored with 200", async () => {
    const read = await sys.api.get<ErrorBody>(`/goals/${goalId}`, { token });
    expect(read.status).to.equal(503);
    expect(read.body.error.code).to.equal("SERVICE_UNAVAILABLE");
    const renamed = await sys.api.patch<Goal & { title: string }>(
      `/goals/${goalId}`,
      { title: "Renamed" },
      { token },
    );
    expect(renamed.status).to.equal(200);
    expect(renamed.body.title).to.equal("Renamed");
    expect(renamed.body.streak).to.equal(null);
  });
});
