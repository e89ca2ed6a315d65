import { expect } from "chai";
import { registerUser, type Session } from "../helpers/api.ts";
import { useStack } from "../helpers/stack.ts";

type ErrorBody = { error: { code: string; status: number; details?: { path: string; message: string }[] } };
interface Goal {
  id: string;
  title: string;
  pattern: string;
  status: string;
  version: number;
  target?: number;
  unit?: string;
  timesPerPeriod?: number;
  period?: string;
  limit?: number;
  startDate: string;
  endDate: string | null;
  tags: string[];
  milestones?: { id: string; title: string; completedAt: string | null }[];
  streak: { current: number; longest: number; lastMetDate: string | null } | null;
  strength: number | null;
  progress: { value: number; goal: number; met: boolean; percent: number; periodStartDate: string } | null;
}
interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

const utcToday = () => new Date().toISOString().slice(0, 10);
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

describe("Goals over HTTP", function () {
  const sys = useStack();
  let user: Session;
  const auth = () => ({ token: user.accessToken });

  before(async () => {
    user = await registerUser(sys.api);
  });

  describe("the five patterns", () => {
    const valid: Record<string, Record<string, unknown>> = {
      daily: { pattern: "daily", title: "Floss" },
      frequency: {
        pattern: "frequency",
        title: "Run",
        timesPerPeriod: 3,
        period: "week",
        target: 5,
        unit: "km",
      },
      target: { pattern: "target", title: "Save", target: 1000, unit: "EUR", endDate: "2099-12-31" },
      limit: { pattern: "limit", title: "Coffee", limit: 2, period: "day", unit: "cups" },
      milestone: {
        pattern: "milestone",
        title: "Thesis",
        milestones: [{ title: "Outline" }, { title: "Draft" }],
      },
    };

    for (const [pattern, body] of Object.entries(valid)) {
      it(`creates a ${pattern} goal (201) with version 1, today as its start and its own fields`, async () => {
        const response = await sys.api.post<Goal>("/goals", body, auth());
        expect(response.status).to.equal(201);
        expect(response.headers.get("location")).to.equal(`/api/v1/goals/${response.body.id}`);
        expect(response.body).to.include({ pattern, status: "active", version: 1, startDate: utcToday() });
        if (pattern === "milestone") {
          expect(response.body.streak).to.equal(null);
          expect(response.body.milestones?.map((m) => m.completedAt)).to.deep.equal([null, null]);
        } else {
          expect(response.body.streak).to.deep.equal({ current: 0, longest: 0, lastMetDate: null });
          expect(response.body.strength).to.equal(0);
        }
      });
    }

    it("fills the daily target with 1", async () => {
      const response = await sys.api.post<Goal>("/goals", { pattern: "daily", title: "Stretch" }, auth());
      expect(response.body.target).to.equal(1);
      expect(response.body.progress).to.include({ value: 0, goal: 1, met: false, percent: 0 });
    });

    it("refuses fields of another pattern, missing required fields and unknown patterns (422 INVALID_GOAL_PATTERN)", async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ pattern: "daily", title: "x", timesPerPeriod: 3 }, "/timesPerPeriod"],
        [{ pattern: "daily", title: "x", limit: 3 }, "/limit"],
        [{ pattern: "target", title: "x", target: 10 }, "/endDate"],
        [{ pattern: "frequency", title: "x", timesPerPeriod: 2, period: "day" }, "/period"],
        [{ pattern: "limit", title: "x", limit: 1, period: "month" }, "/period"],
        [{ pattern: "milestone", title: "x", target: 3, milestones: [{ title: "a" }] }, "/target"],
        [{ pattern: "weekly", title: "x" }, "/pattern"],
      ];
      for (const [body, path] of cases) {
        const response = await sys.api.post<ErrorBody>("/goals", body, auth());
        expect(response.status, JSON.stringify(body)).to.equal(422);
        expect(response.body.error.code).to.equal("INVALID_GOAL_PATTERN");
        expect(response.body.error.details?.map((d) => d.path)).to.include(path);
      }
    });

    it("refuses an end date on or before the start date (422 INVALID_DATE_RANGE)", async () => {
      const response = await sys.api.post<ErrorBody>(
        "/goals",
        { pattern: "daily", title: "x", startDate: "2030-01-10", endDate: "2030-01-10" },
        auth(),
      );
      expect(response.status).to.equal(422);
      expect(response.body.error.code).to.equal("INVALID_DATE_RANGE");
    });

    it("validates common fields (422 VALIDATION_ERROR) and never stores unknown ones", async () => {
      const response = await sys.api.post<ErrorBody>(
        "/goals",
        { pattern: "daily", title: "", tags: ["a".repeat(33)], userId: "someone-else", status: "completed" },
        auth(),
      );
      expect(response.status).to.equal(422);
      expect(response.body.error.details?.map((d) => d.path)).to.include.members([
        "/title",
        "/tags/0",
        "/userId",
        "/status",
      ]);
    });
  });

  describe("templates", () => {
    it("lists at least the six templates of the contract", async () => {
      const response = await sys.api.get<{ items: { id: string; title: string }[] }>("/templates", auth());
      const titles = response.body.items.map((t) => t.title.toLowerCase()).join(" | ");
      for (const words of ["water", "exercise", "read", "meditate", "sleep", "10,000 steps"])
        expect(titles).to.include(words);
    });

    it("creates a goal from a template, with overrides", async () => {
      const response = await sys.api.post<Goal>("/goals", { templateId: "drink-water", target: 10 }, auth());
      expect(response.status).to.equal(201);
      expect(response.body).to.include({ pattern: "daily", target: 10, unit: "glasses" });
      const missing = await sys.api.post<ErrorBody>("/goals", { templateId: "no-such-template" }, auth());
      expect(missing.status).to.equal(404);
    });
  });

  describe("reading, listing and ownership", () => {
    it("pages newest first with a cursor that never repeats or skips, even as goals are added", async () => {
      const owner = await registerUser(sys.api);
      const ids: string[] = [];
      for (let i = 0; i < 5; i += 1) {
        ids.push(
          (
            await sys.api.post<Goal>(
              "/goals",
              { pattern: "daily", title: `g${i}` },
              { token: owner.accessToken },
            )
          ).body.id,
        );
      }
      const first = await sys.api.get<Page<Goal>>("/goals?limit=2", { token: owner.accessToken });
      expect(first.body.items.map((g) => g.id)).to.deep.equal([ids[4], ids[3]]);
      await sys.api.post("/goals", { pattern: "daily", title: "late" }, { token: owner.accessToken });
      const second = await sys.api.get<Page<Goal>>(`/goals?limit=2&cursor=${first.body.nextCursor}`, {
        token: owner.accessToken,
      });
      expect(second.body.items.map((g) => g.id)).to.deep.equal([ids[2], ids[1]]);
      const third = await sys.api.get<Page<Goal>>(`/goals?limit=2&cursor=${second.body.nextCursor}`, {
        token: owner.accessToken,
      });
      expect(third.body.items.map((g) => g.id)).to.deep.equal([ids[0]]);
      expect(third.body.nextCursor).to.equal(null);
    });

    it("filters by status, pattern and tag; archived goals only when asked for", async () => {
      const owner = await registerUser(sys.api);
      const token = owner.accessToken;
      const tagged = await sys.api.post<Goal>(
        "/goals",
        { pattern: "daily", title: "a", tags: ["health"] },
        { token },
      );
      await sys.api.post<Goal>(
        "/goals",
        { pattern: "limit", title: "b", limit: 1, period: "week" },
        { token },
      );
      const archived = await sys.api.post<Goal>("/goals", { pattern: "daily", title: "c" }, { token });
      await sys.api.post(`/goals/${archived.body.id}/archive`, undefined, { token });
      const all = await sys.api.get<Page<Goal>>("/goals", { token });
      expect(all.body.items).to.have.length(2);
      expect(
        (await sys.api.get<Page<Goal>>("/goals?status=archived", { token })).body.items.map((g) => g.id),
      ).to.deep.equal([archived.body.id]);
      expect(
        (await sys.api.get<Page<Goal>>("/goals?pattern=limit", { token })).body.items.map((g) => g.title),
      ).to.deep.equal(["b"]);
      expect(
        (await sys.api.get<Page<Goal>>("/goals?tag=health", { token })).body.items.map((g) => g.id),
      ).to.deep.equal([tagged.body.id]);
      expect((await sys.api.get<ErrorBody>("/goals?limit=500", { token })).status).to.equal(400);
      expect((await sys.api.get<ErrorBody>("/goals?status=deleted", { token })).status).to.equal(400);
    });

    it("answers 404 GOAL_NOT_FOUND for someone else's goal on every goal route", async () => {
      const goal = await sys.api.post<Goal>("/goals", { pattern: "daily", title: "mine" }, auth());
      const stranger = await registerUser(sys.api);
      const token = stranger.accessToken;
      const id = goal.body.id;
      const attempts = [
        sys.api.get<ErrorBody>(`/goals/${id}`, { token }),
        sys.api.patch<ErrorBody>(`/goals/${id}`, { title: "theirs" }, { token }),
        sys.api.delete<ErrorBody>(`/goals/${id}`, { token }),
        sys.api.post<ErrorBody>(`/goals/${id}/archive`, undefined, { token }),
        sys.api.get<ErrorBody>(`/goals/${id}/progress`, { token }),
        sys.api.post<ErrorBody>(`/goals/${id}/skips`, { date: utcToday() }, { token }),
        sys.api.post<ErrorBody>(`/goals/${id}/activities`, {}, { token }),
        sys.api.get<ErrorBody>(`/goals/${id}/activities`, { token }),
      ];
      for (const response of await Promise.all(attempts)) {
        expect(response.status).to.equal(404);
        expect(response.body.error.code).to.equal("GOAL_NOT_FOUND");
      }
      expect((await sys.api.get<Goal>(`/goals/${id}`, auth())).body.title).to.equal("mine");
    });
  });

  describe("changes with optimistic versions", () => {
    it("bumps the version on each change and refuses a stale If-Match or version (409 VERSION_CONFLICT)", async () => {
      const goal = await sys.api.post<Goal>("/goals", { pattern: "daily", title: "Walk", target: 2 }, auth());
      const renamed = await sys.api.patch<Goal>(
        `/goals/${goal.body.id}`,
        { title: "Walk more" },
        { ...auth(), headers: { "if-match": "1" } },
      );
      expect(renamed.status).to.equal(200);
      expect(renamed.body).to.include({ title: "Walk more", version: 2, target: 2 });
      const stale = await sys.api.patch<ErrorBody>(
        `/goals/${goal.body.id}`,
        { title: "x" },
        { ...auth(), headers: { "if-match": '"1"' } },
      );
      expect(stale.status).to.equal(409);
      expect(stale.body.error.code).to.equal("VERSION_CONFLICT");
      const staleField = await sys.api.patch<ErrorBody>(
        `/goals/${goal.body.id}`,
        { title: "x", version: 1 },
        auth(),
      );
      expect(staleField.status).to.equal(409);
      const current = await sys.api.patch<Goal>(`/goals/${goal.body.id}`, { target: 3, version: 2 }, auth());
      expect(current.body).to.include({ version: 3, target: 3 });
    });

    it("refuses a field of another pattern in a patch (422 INVALID_GOAL_PATTERN)", async () => {
      const goal = await sys.api.post<Goal>("/goals", { pattern: "daily", title: "x" }, auth());
      const response = await sys.api.patch<ErrorBody>(`/goals/${goal.body.id}`, { limit: 4 }, auth());
      expect(response.status).to.equal(422);
      expect(response.body.error.code).to.equal("INVALID_GOAL_PATTERN");
    });
  });

  describe("archive", () => {
    it("keeps history, refuses logs and edits (409 GOAL_ARCHIVED) until unarchived", async () => {
      const goal = await sys.api.post<Goal>("/goals", { pattern: "daily", title: "Journal" }, auth());
      const id = goal.body.id;
      expect((await sys.api.post<Goal>(`/goals/${id}/activities`, {}, auth())).status).to.equal(201);
      const archived = await sys.api.post<Goal>(`/goals/${id}/archive`, undefined, auth());
      expect(archived.body.status).to.equal("archived");
      expect(archived.body.streak?.current).to.equal(1);
      const log = await sys.api.post<ErrorBody>(`/goals/${id}/activities`, {}, auth());
      expect(log.status).to.equal(409);
      expect(log.body.error.code).to.equal("GOAL_ARCHIVED");
      expect(
        (await sys.api.patch<ErrorBody>(`/goals/${id}`, { title: "y" }, auth())).body.error.code,
      ).to.equal("GOAL_ARCHIVED");
      const back = await sys.api.post<Goal>(`/goals/${id}/unarchive`, undefined, auth());
      expect(back.body.status).to.equal("active");
      expect((await sys.api.post(`/goals/${id}/activities`, {}, auth())).status).to.equal(201);
    });

    it("archives in bulk, ignoring ids the user does not own", async () => {
      const stranger = await registerUser(sys.api);
      const foreign = await sys.api.post<Goal>(
        "/goals",
        { pattern: "daily", title: "theirs" },
        { token: stranger.accessToken },
      );
      const mine = await Promise.all(
        [1, 2].map((i) => sys.api.post<Goal>("/goals", { pattern: "daily", title: `m${i}` }, auth())),
      );
      const response = await sys.api.post<{ archived: number }>(
        "/goals/archive",
        { ids: [...mine.map((g) => g.body.id), foreign.body.id, "does-not-exist"] },
        auth(),
      );
      expect(response.body.archived).to.equal(2);
      expect(
        (await sys.api.get<Goal>(`/goals/${foreign.body.id}`, { token: stranger.accessToken })).body.status,
      ).to.equal("active");
    });
  });

  describe("delete", () => {
    it("removes the goal with its activities (204, then 404)", async () => {
      const goal = await sys.api.post<Goal>("/goals", { pattern: "daily", title: "Gone soon" }, auth());
      await sys.api.post(`/goals/${goal.body.id}/activities`, {}, auth());
      expect((await sys.api.delete(`/goals/${goal.body.id}`, auth())).status).to.equal(204);
      expect((await sys.api.get<ErrorBody>(`/goals/${goal.body.id}`, auth())).body.error.code).to.equal(
        "GOAL_NOT_FOUND",
      );
      expect((await sys.api.get<ErrorBody>(`/goals/${goal.body.id}/activities`, auth())).status).to.equal(
        404,
      );
    });
  });

  describe("skips", () => {
    it("adds single dates and ranges, lists and removes them; a range is at most 31 days", async () => {
      const goal = await sys.api.post<Goal>(
        "/goals",
        { pattern: "daily", title: "Swim", startDate: daysAgo(40) },
        auth(),
      );
      const id = goal.body.id;
      const one = await sys.api.post<{ skips: string[] }>(`/goals/${id}/skips`, { date: daysAgo(1) }, auth());
      expect(one.body.skips).to.deep.equal([daysAgo(1)]);
      const range = await sys.api.post<{ skips: string[] }>(
        `/goals/${id}/skips`,
        { from: daysAgo(5), to: daysAgo(3) },
        auth(),
      );
      expect(range.body.skips).to.deep.equal([daysAgo(5), daysAgo(4), daysAgo(3), daysAgo(1)]);
      const tooLong = await sys.api.post<ErrorBody>(
        `/goals/${id}/skips`,
        { from: daysAgo(38), to: daysAgo(1) },
        auth(),
      );
      expect(tooLong.status).to.equal(422);
      expect(tooLong.body.error.code).to.equal("INVALID_DATE_RANGE");
      const both = await sys.api.post<ErrorBody>(
        `/goals/${id}/skips`,
        { date: daysAgo(1), from: daysAgo(2), to: daysAgo(1) },
        auth(),
      );
      expect(both.status).to.equal(422);
      expect((await sys.api.delete(`/goals/${id}/skips/${daysAgo(4)}`, auth())).status).to.equal(204);
      expect((await sys.api.get<{ skips: string[] }>(`/goals/${id}/skips`, auth())).body.skips).to.deep.equal(
        [daysAgo(5), daysAgo(3), daysAgo(1)],
      );
      expect((await sys.api.delete<ErrorBody>(`/goals/${id}/skips/${daysAgo(4)}`, auth())).status).to.equal(
        404,
      );
    });
  });
});

describe("The goal quota (MAX_ACTIVE_GOALS)", function () {
  const sys = useStack({ MAX_ACTIVE_GOALS: "2" });

  it("refuses a goal over the quota (409 GOAL_QUOTA_EXCEEDED); archived goals do not count", async () => {
    const user = await registerUser(sys.api);
    const token = user.accessToken;
    const first = await sys.api.post<Goal>("/goals", { pattern: "daily", title: "1" }, { token });
    await sys.api.post<Goal>("/goals", { pattern: "daily", title: "2" }, { token });
    const third = await sys.api.post<ErrorBody>("/goals", { pattern: "daily", title: "3" }, { token });
    expect(third.status).to.equal(409);
    expect(third.body.error.code).to.equal("GOAL_QUOTA_EXCEEDED");
    await sys.api.post(`/goals/${first.body.id}/archive`, undefined, { token });
    expect((await sys.api.post("/goals", { pattern: "daily", title: "3" }, { token })).status).to.equal(201);
    const unarchive = await sys.api.post<ErrorBody>(`/goals/${first.body.id}/unarchive`, undefined, {
      token,
    });
    expect(unarchive.status).to.equal(409);
    expect(unarchive.body.error.code).to.equal("GOAL_QUOTA_EXCEEDED");
  });
});
