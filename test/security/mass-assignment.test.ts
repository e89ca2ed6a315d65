import { expect } from "chai";
import { ROUTES } from "../../shared/api/index.ts";
import type { RouteSpec } from "../../shared/api/route.ts";
import { registerUser } from "../helpers/api.ts";
import {
  ADMIN_ROUTES,
  createOwner,
  fillPath,
  isoDate,
  label,
  type Owner,
  randomId,
  sampleBody,
  takesBody,
  type UserSession,
} from "../helpers/security-routes.ts";
import { useSecurityStack } from "../helpers/security-stack.ts";

type ErrorBody = { error: { code: string; details?: { path: string; message: string }[] } };
interface Goal {
  id: string;
  title: string;
  status: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** Server-owned fields and what an attacker would like them to be. */
function serverFields(victimId: string): Record<string, unknown> {
  return {
    role: "admin",
    isAdmin: true,
    userId: victimId,
    ownerId: victimId,
    id: randomId(),
    _id: randomId(),
    version: 99,
    status: "completed",
    createdAt: "2000-01-01T00:00:00.000Z",
    updatedAt: "2000-01-01T00:00:00.000Z",
    deletedAt: "2000-01-01T00:00:00.000Z",
    passwordHash: "$argon2id$v=19$m=65536,t=3,p=4$attacker",
    email: "attacker@example.test",
    onboardingCompletedAt: "2000-01-01T00:00:00.000Z",
    goalId: randomId(),
    localDate: "2000-01-01",
    secret: "whsec_attacker_chosen",
    familyId: randomId(),
    statusBeforeArchive: "active",
  };
}

function declares(route: RouteSpec, field: string): boolean {
  return Object.hasOwn((route.body?.properties ?? {}) as object, field);
}

describe("Security: mass assignment", function () {
  this.timeout(120_000);
  const sys = useSecurityStack();
  let owner: Owner;
  let victim: UserSession;
  let admin: UserSession;

  before(async function () {
    this.timeout(60_000);
    owner = await createOwner(sys.api);
    victim = await registerUser(sys.api);
    admin = await registerUser(sys.api, { email: "admin@example.test" });
  });

  const auth = () => ({ token: owner.session.accessToken });
  const tokenFor = (route: RouteSpec) =>
    route.access === "admin"
      ? admin.accessToken
      : route.access === "user"
        ? owner.session.accessToken
        : undefined;

  /** What a successful mass assignment would change: the owner's profile, goal, activity and webhooks. */
  async function snapshot(): Promise<unknown> {
    const me = await sys.api.get("/me", auth());
    const goal = await sys.api.get<Goal>(`/goals/${owner.ids.goal}`, auth());
    const goals = await sys.api.get<{ items: Goal[] }>("/goals?limit=100", auth());
    const activities = await sys.api.get<{ items: unknown[] }>(`/goals/${owner.ids.goal}/activities`, auth());
    const hooks = await sys.api.get<{ items: unknown[] }>("/webhooks", auth());
    const victimMe = await sys.api.get("/me", { token: victim.accessToken });
    const victimGoals = await sys.api.get<{ items: unknown[] }>("/goals", { token: victim.accessToken });
    const { title, status, version, createdAt, updatedAt } = goal.body;
    return {
      me: me.body,
      goal: { title, status, version, createdAt, updatedAt },
      goalCount: goals.body.items.length,
      activities: activities.body.items,
      hooks: hooks.body.items,
      victimMe: victimMe.body,
      victimGoals: victimGoals.body.items.length,
    };
  }

  describe("server-owned fields in a body are unknown properties (422 VALIDATION_ERROR at their path)", () => {
    let before: unknown;

    it("snapshot before", async () => {
      before = await snapshot();
    });

    for (const route of ROUTES.filter(takesBody)) {
      it(label(route), async () => {
        const sample = sampleBody(route, owner.context);
        for (const [field, value] of Object.entries(serverFields(victim.user.id))) {
          if (declares(route, field)) continue; // a field the route really takes: tested on its own below
          const response = await sys.api.request<ErrorBody>(route.method, fillPath(route, owner.ids), {
            body: { ...sample, [field]: value },
            token: tokenFor(route),
          });
          expect(response.status, `${field} → ${response.text}`).to.equal(422);
          expect(response.body.error.code).to.equal("VALIDATION_ERROR");
          expect(response.body.error.details?.map((detail) => detail.path)).to.include(`/${field}`);
        }
      });
    }

    it("changed nothing: the owner's and the victim's data are as before", async () => {
      expect(await snapshot()).to.deep.equal(before);
    });
  });

  describe("fields that exist but belong to the server", () => {
    it("PATCH /me cannot make a user an admin, and admin routes stay closed", async () => {
      const response = await sys.api.patch<ErrorBody>("/me", { displayName: "x", role: "admin" }, auth());
      expect(response.status).to.equal(422);
      const me = await sys.api.get<{ role: string; displayName: string }>("/me", auth());
      expect(me.body.role).to.equal("user");
      for (const route of ADMIN_ROUTES) {
        const refused = await sys.api.request(route.method, fillPath(route, {}), auth());
        expect(refused.status).to.equal(403);
      }
    });

    it("POST /auth/register cannot choose a role: the account is not even created", async () => {
      const email = `role-${randomId()}@example.test`;
      const response = await sys.api.post("/auth/register", {
        email,
        password: "password 123",
        role: "admin",
      });
      expect(response.status).to.equal(422);
      const login = await sys.api.post("/auth/login", { email, password: "password 123" });
      expect(login.status).to.equal(401);
    });

    it("PATCH /goals/:id: `version` is the optimistic check, never a value stored; `status` is not settable", async () => {
      const created = await sys.api.post<Goal>("/goals", { pattern: "daily", title: "versioned" }, auth());
      const id = created.body.id;
      const v = created.body.version;
      const stale = await sys.api.patch<ErrorBody>(`/goals/${id}`, { title: "t2", version: v + 50 }, auth());
      expect(stale.status).to.equal(409);
      expect(stale.body.error.code).to.equal("VERSION_CONFLICT");
      const ok = await sys.api.patch<Goal>(`/goals/${id}`, { title: "t2", version: v }, auth());
      expect(ok.status).to.equal(200);
      expect(ok.body.version).to.equal(v + 1);
      const statusChange = await sys.api.patch<ErrorBody>(
        `/goals/${id}`,
        { version: v + 1, status: "completed" },
        auth(),
      );
      expect(statusChange.status).to.equal(422);
      const staleHeader = await sys.api.patch<ErrorBody>(
        `/goals/${id}`,
        { title: "t3" },
        { ...auth(), headers: { "if-match": String(v) } },
      );
      expect(staleHeader.status).to.equal(409);
      const after = await sys.api.get<Goal>(`/goals/${id}`, auth());
      expect(after.body).to.include({ title: "t2", status: "active", version: v + 1 });
      expect(after.body.createdAt).to.equal(created.body.createdAt);
    });

    it("a milestone cannot be created already completed", async () => {
      const response = await sys.api.post<ErrorBody>(
        "/goals",
        {
          pattern: "milestone",
          title: "checklist",
          milestones: [{ title: "step", completedAt: "2000-01-01T00:00:00.000Z" }],
        },
        auth(),
      );
      expect(response.status).to.equal(422);
      expect(response.body.error.details?.map((d) => d.path)).to.include("/milestones/0/completedAt");
    });

    it("an activity cannot be moved to another goal or given its local date", async () => {
      const victimGoal = await sys.api.post<Goal>(
        "/goals",
        { pattern: "daily", title: "victim's" },
        { token: victim.accessToken },
      );
      const moved = await sys.api.patch<ErrorBody>(
        `/activities/${owner.ids.activity}`,
        { goalId: victimGoal.body.id },
        auth(),
      );
      expect(moved.status).to.equal(422);
      const dated = await sys.api.post<ErrorBody>(
        `/goals/${owner.ids.goal}/activities`,
        { quantity: 1, localDate: isoDate(-300) },
        auth(),
      );
      expect(dated.status).to.equal(422);
      const victimActivities = await sys.api.get<{ items: unknown[] }>(
        `/goals/${victimGoal.body.id}/activities`,
        {
          token: victim.accessToken,
        },
      );
      expect(victimActivities.body.items).to.deep.equal([]);
    });

    it("a bulk item cannot carry a user, an id or a local date", async () => {
      const count = async () =>
        (await sys.api.get<{ items: unknown[] }>(`/goals/${owner.ids.goal}/activities?limit=100`, auth()))
          .body.items.length;
      const before = await count();
      for (const extra of [
        { userId: victim.user.id },
        { id: randomId() },
        { localDate: "2000-01-01" },
        { createdAt: "2000-01-01T00:00:00.000Z" },
      ]) {
        const response = await sys.api.post<{ results?: { status: number }[] } & ErrorBody>(
          "/activities/bulk",
          { items: [{ goalId: owner.ids.goal, ...extra }] },
          auth(),
        );
        const status = response.status === 200 ? response.body.results?.[0]?.status : response.status;
        expect(status, `${JSON.stringify(extra)} → ${response.text}`).to.equal(422);
      }
      expect(await count()).to.equal(before);
    });

    it("a webhook's signing secret is the server's choice", async () => {
      const response = await sys.api.post<ErrorBody>(
        "/webhooks",
        { url: "http://93.184.215.14/hook", events: ["weekly.summary"], secret: "attacker-chosen" },
        auth(),
      );
      expect(response.status).to.equal(422);
    });
  });
});
