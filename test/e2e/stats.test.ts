import { expect } from "chai";
import { registerUser, type Session } from "../helpers/api.ts";
import { useStack } from "../helpers/stack.ts";

type ErrorBody = { error: { code: string } };
interface Day {
  date: string;
  activities: number;
  quantity: number;
  goalsDue: number;
  goalsMet: number;
  completionRate: number | null;
}
interface Week extends Omit<Day, "date"> {
  weekStartDate: string;
}

const DAY = 86_400_000;
const isoDaysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString();
const dateDaysAgo = (n: number) => isoDaysAgo(n).slice(0, 10);

describe("Stats and jobs over HTTP", function () {
  const sys = useStack();
  let user: Session;
  let admin: Session;
  let goalId: string;

  before(async function () {
    this.timeout(30_000);
    user = await registerUser(sys.api);
    admin = await registerUser(sys.api, { email: "admin@example.test" });
    const token = user.accessToken;
    goalId = (
      await sys.api.post<{ id: string }>(
        "/goals",
        { pattern: "daily", title: "Read", target: 2, startDate: dateDaysAgo(3) },
        { token },
      )
    ).body.id;
    await sys.api.post(`/goals/${goalId}/activities`, { quantity: 2, occurredAt: isoDaysAgo(2) }, { token });
    await sys.api.post(`/goals/${goalId}/activities`, { quantity: 1, occurredAt: isoDaysAgo(1) }, { token });
    await sys.api.post(`/goals/${goalId}/activities`, { quantity: 3 }, { token });
  });

  it("answers one item per day, live, with goals due and met and the completion rate", async () => {
    const response = await sys.api.get<Day[]>(`/stats/daily?from=${dateDaysAgo(4)}&to=${dateDaysAgo(0)}`, {
      token: user.accessToken,
    });
    expect(response.status).to.equal(200);
    expect(
      response.body.map((d) => [d.date, d.activities, d.quantity, d.goalsDue, d.goalsMet, d.completionRate]),
    ).to.deep.equal([
      [dateDaysAgo(4), 0, 0, 0, 0, null],
      [dateDaysAgo(3), 0, 0, 1, 0, 0],
      [dateDaysAgo(2), 1, 2, 1, 1, 1],
      [dateDaysAgo(1), 1, 1, 1, 0, 0],
      [dateDaysAgo(0), 1, 3, 1, 1, 1],
    ]);
  });

  it("closes days through the admin job route; a second run closes nothing more", async () => {
    const forbidden = await sys.api.post<ErrorBody>("/admin/jobs/close-days/run", undefined, {
      token: user.accessToken,
    });
    expect(forbidden.status).to.equal(403);
    expect(forbidden.body.error.code).to.equal("FORBIDDEN");
    const first = await sys.api.post<{
      job: string;
      processed: number;
      startedAt: string;
      finishedAt: string;
    }>("/admin/jobs/close-days/run", undefined, { token: admin.accessToken });
    expect(first.status).to.equal(200);
    expect(first.body.job).to.equal("close-days");
    expect(first.body.processed).to.be.greaterThan(0);
    expect(Date.parse(first.body.finishedAt)).to.be.at.least(Date.parse(first.body.startedAt));
    const second = await sys.api.post<{ processed: number }>("/admin/jobs/close-days/run", undefined, {
      token: admin.accessToken,
    });
    expect(second.body.processed).to.equal(0);
  });

  it("re-closes a closed day when a backdated log changes it", async () => {
    await sys.api.post("/admin/jobs/close-days/run", undefined, { token: admin.accessToken });
    await sys.api.post(
      `/goals/${goalId}/activities`,
      { quantity: 1, occurredAt: isoDaysAgo(1) },
      { token: user.accessToken },
    );
    const deadline = Date.now() + 10_000;
    let yesterday: Day | undefined;
    while (Date.now() < deadline) {
      const days = (
        await sys.api.get<Day[]>(`/stats/daily?from=${dateDaysAgo(1)}&to=${dateDaysAgo(1)}`, {
          token: user.accessToken,
        })
      ).body;
      yesterday = days[0];
      if (yesterday?.activities === 2 && yesterday.goalsMet === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(yesterday).to.include({ activities: 2, quantity: 2, goalsDue: 1, goalsMet: 1 });
  });

  it("sums weeks on the user's week start", async () => {
    const weeks = (
      await sys.api.get<Week[]>(`/stats/weekly?from=${dateDaysAgo(3)}&to=${dateDaysAgo(0)}`, {
        token: user.accessToken,
      })
    ).body;
    const total = weeks.reduce((sum, week) => sum + week.activities, 0);
    expect(total).to.equal(4);
    for (const week of weeks) expect(new Date(`${week.weekStartDate}T00:00:00Z`).getUTCDay()).to.equal(1);
  });

  it("refuses ranges that run backwards or are too long (422 INVALID_DATE_RANGE)", async () => {
    for (const path of [
      `/stats/daily?from=${dateDaysAgo(100)}&to=${dateDaysAgo(0)}`,
      `/stats/daily?from=${dateDaysAgo(0)}&to=${dateDaysAgo(2)}`,
    ]) {
      const response = await sys.api.get<ErrorBody>(path, { token: user.accessToken });
      expect(response.status, path).to.equal(422);
      expect(response.body.error.code).to.equal("INVALID_DATE_RANGE");
    }
  });

  it("runs verify-streaks and retention on demand, and answers 404 for an unknown job", async () => {
    const verify = await sys.api.post<{ processed: number }>("/admin/jobs/verify-streaks/run", undefined, {
      token: admin.accessToken,
    });
    expect(verify.status).to.equal(200);
    expect(verify.body.processed).to.be.at.least(1);
    const retention = await sys.api.post<{ processed: number }>("/admin/jobs/retention/run", undefined, {
      token: admin.accessToken,
    });
    expect(retention.status).to.equal(200);
    const unknown = await sys.api.post<ErrorBody>("/admin/jobs/make-coffee/run", undefined, {
      token: admin.accessToken,
    });
    expect(unknown.status).to.equal(404);
  });
});
