import { expect } from "chai";
import { ROUTES } from "../../shared/api/index.ts";
import { registerUser } from "../helpers/api.ts";
import {
  ADMIN_ROUTES,
  bodyErrors,
  createOwner,
  fillPath,
  label,
  missingPath,
  notFoundCodes,
  type Owner,
  ownsResource,
  PROTECTED_ROUTES,
  type SampleContext,
  sampleBody,
  takesBody,
  USER_ROUTES,
} from "../helpers/security-routes.ts";
import { STACK_KEYS, useSecurityStack } from "../helpers/security-stack.ts";
import {
  accessClaims,
  accessHeader,
  attackerKeys,
  signEs256,
  signHs,
  unsigned,
} from "../helpers/security-tokens.ts";

type ErrorBody = { error: { code: string; message: string; status: number } };

describe("Security: access control on every route of the route table", function () {
  this.timeout(120_000);
  const sys = useSecurityStack();
  const attacker = attackerKeys();
  let owner: Owner;
  let ownerGoalVersion: number;
  let ownerIdentifiers: string[];

  before(async function () {
    this.timeout(90_000);
    owner = await createOwner(sys.api, { notification: true });
    const goal = await sys.api.get<{ version: number }>(`/goals/${owner.ids.goal}`, {
      token: owner.session.accessToken,
    });
    ownerGoalVersion = goal.body.version;
    ownerIdentifiers = [
      owner.session.user.id,
      owner.session.user.email,
      owner.ids.goal,
      owner.ids.activity,
      owner.ids.webhook,
      owner.ids.notification!,
      "Owner's goal",
      "owner's note",
    ];
  });

  it("covers every route: each protected route requires a token, each body route has a valid sample", () => {
    expect(PROTECTED_ROUTES.length).to.be.greaterThan(30);
    const publicRoutes = ROUTES.filter((route) => route.access === "public").map(label);
    // The contract's list of routes without a token; anything else public would be a hole.
    expect(publicRoutes).to.have.members([
      "POST /auth/register",
      "POST /auth/login",
      "POST /auth/refresh",
      "GET /health",
      "GET /ready",
      "GET /openapi.json",
      "GET /docs",
      "GET /docs/assets/:file",
    ]);
    for (const route of ROUTES.filter(takesBody)) {
      expect(bodyErrors(route, sampleBody(route, owner.context)), label(route)).to.equal(null);
    }
  });

  describe("without a valid access token: 401 UNAUTHORIZED", () => {
    for (const route of PROTECTED_ROUTES) {
      it(label(route), async () => {
        const userId = owner.session.user.id;
        const now = Math.floor(Date.now() / 1000);
        const expired = { iat: now - 3600, exp: now - 60 };
        const variants: [string, string | undefined][] = [
          ["no Authorization header", undefined],
          ["signed by another key", signEs256(accessHeader(), accessClaims(userId), attacker.privateKey)],
          [
            "expired, signed by the stack's own key",
            signEs256(accessHeader(), accessClaims(userId, expired), STACK_KEYS.privateKey),
          ],
          [
            "expired, signed by another key",
            signEs256(accessHeader(), accessClaims(userId, expired), attacker.privateKey),
          ],
          ["unsigned (alg: none)", unsigned(accessHeader({ alg: "none" }), accessClaims(userId))],
          [
            "HS256 keyed with the stack's public key",
            signHs(accessHeader({ alg: "HS256" }), accessClaims(userId), STACK_KEYS.publicKey),
          ],
        ];
        const path = fillPath(route, owner.ids);
        const body = takesBody(route) ? sampleBody(route, owner.context) : undefined;
        for (const [what, token] of variants) {
          const response = await sys.api.request<ErrorBody>(route.method, path, { body, token });
          expect(response.status, `${what}: ${response.text}`).to.equal(401);
          expect(response.body.error.code, what).to.equal("UNAUTHORIZED");
        }
      });
    }
  });

  describe("another user's token on the owner's resources: 404, exactly as for an id that does not exist", () => {
    for (const route of USER_ROUTES.filter(ownsResource)) {
      it(label(route), async () => {
        const intruder = await registerUser(sys.api);
        const body = takesBody(route) ? sampleBody(route, owner.context) : undefined;
        const options = { body, token: intruder.accessToken };
        const foreign = await sys.api.request<ErrorBody>(route.method, fillPath(route, owner.ids), options);
        const missing = await sys.api.request<ErrorBody>(
          route.method,
          missingPath(route, owner.ids),
          options,
        );
        const codes = notFoundCodes(route);
        expect(codes.length, "the route documents a 404").to.be.greaterThan(0);
        expect(foreign.status, foreign.text).to.equal(404);
        expect(codes).to.include(foreign.body.error.code);
        const shape = (r: typeof foreign) => ({
          status: r.status,
          code: r.body.error?.code,
          message: r.body.error?.message,
        });
        expect(shape(foreign), "a foreign id answers as a missing one").to.deep.equal(shape(missing));
        for (const value of ownerIdentifiers.slice(2)) expect(foreign.text).to.not.include(value);
      });
    }
  });

  describe("another user's calls that name the owner's data in a body or a cursor reach nothing of it", () => {
    for (const route of USER_ROUTES.filter((r) => !ownsResource(r))) {
      it(label(route), async () => {
        const intruder = await registerUser(sys.api);
        // Bodies name the owner's goal and refresh token; credentials are the intruder's own.
        const context: SampleContext = {
          ids: owner.ids,
          email: intruder.user.email,
          password: intruder.password,
          refreshToken: owner.session.refreshToken,
        };
        const body = takesBody(route) ? sampleBody(route, context) : undefined;
        const response = await sys.api.request<Record<string, unknown>>(route.method, route.path, {
          body,
          token: intruder.accessToken,
        });
        expect(response.status, response.text).to.be.below(500);
        for (const value of ownerIdentifiers) expect(response.text, value).to.not.include(value);
        if (response.status === 200 && "archived" in response.body)
          expect(response.body.archived).to.equal(0);
        if (response.status === 200 && Array.isArray(response.body.results)) {
          for (const result of response.body.results as { status: number }[])
            expect(result.status).to.equal(404);
        }
      });
    }

    it("an Idempotency-Key is the user's own: the same key from another user never replays the owner's answer", async () => {
      const intruder = await registerUser(sys.api);
      const own = await sys.api.post<{ id: string }>(
        "/goals",
        { pattern: "daily", title: "intruder" },
        { token: intruder.accessToken },
      );
      const logged: string[] = [];
      for (const [key, target] of [
        [`owner-key-a-${Date.now()}`, owner.ids.goal],
        [`owner-key-b-${Date.now()}`, own.body.id],
      ] as const) {
        const first = await sys.api.post<{ id: string }>(
          `/goals/${owner.ids.goal}/activities`,
          { quantity: 1 },
          { token: owner.session.accessToken, headers: { "idempotency-key": key } },
        );
        expect(first.status).to.equal(201);
        logged.push(first.body.id);
        const replay = await sys.api.post<{ id: string; goalId: string }>(
          `/goals/${target}/activities`,
          { quantity: 1 },
          { token: intruder.accessToken, headers: { "idempotency-key": key } },
        );
        if (target === owner.ids.goal) {
          expect(replay.status, `same key, owner's goal: ${replay.text}`).to.equal(404);
        } else {
          expect(replay.status, replay.text).to.equal(201);
          expect(replay.body.id).to.not.equal(first.body.id);
          expect(replay.body.goalId).to.equal(own.body.id);
        }
      }
      // Cleanup keeps the owner's goal as the other tests expect it.
      for (const id of logged) {
        expect(
          (await sys.api.delete(`/activities/${id}`, { token: owner.session.accessToken })).status,
        ).to.equal(204);
      }
    });

    it("the owner's list cursor pages through nothing of the owner's for another user", async () => {
      const page = await sys.api.get<{ items: unknown[]; nextCursor: string | null }>("/goals?limit=1", {
        token: owner.session.accessToken,
      });
      expect(page.body.nextCursor).to.be.a("string");
      const intruder = await registerUser(sys.api);
      const next = await sys.api.get<{ items: unknown[] }>(
        `/goals?limit=100&cursor=${page.body.nextCursor}`,
        {
          token: intruder.accessToken,
        },
      );
      expect(next.status).to.equal(200);
      expect(next.body.items).to.deep.equal([]);
    });
  });

  describe("admin routes", () => {
    for (const route of ADMIN_ROUTES) {
      it(`${label(route)}: 403 FORBIDDEN for a user, served for an admin`, async () => {
        const user = await registerUser(sys.api);
        const path = fillPath(route, owner.ids);
        const body = takesBody(route) ? sampleBody(route, owner.context) : undefined;
        const refused = await sys.api.request<ErrorBody>(route.method, path, {
          body,
          token: user.accessToken,
        });
        expect(refused.status, refused.text).to.equal(403);
        expect(refused.body.error.code).to.equal("FORBIDDEN");
        const admin = await sys.api.post<{ user: { role: string }; accessToken: string }>("/auth/login", {
          email: "admin@example.test",
          password: "admin password 1",
        });
        const session =
          admin.status === 200
            ? admin.body
            : await registerUser(sys.api, { email: "admin@example.test", password: "admin password 1" });
        expect(session.user.role).to.equal("admin");
        const served = await sys.api.request(route.method, path, { body, token: session.accessToken });
        expect(served.status, served.text).to.equal(route.status);
      });
    }
  });

  describe("afterwards", () => {
    it("the owner's goal, activity, skip, webhook, notification and session are untouched", async () => {
      const auth = { token: owner.session.accessToken };
      const goal = await sys.api.get<{ title: string; status: string; version: number }>(
        `/goals/${owner.ids.goal}`,
        auth,
      );
      expect(goal.status).to.equal(200);
      expect(goal.body).to.include({ title: "Owner's goal", status: "active", version: ownerGoalVersion });
      const activities = await sys.api.get<{ items: { id: string; quantity: number; note: string }[] }>(
        `/goals/${owner.ids.goal}/activities`,
        auth,
      );
      expect(activities.body.items.find((item) => item.id === owner.ids.activity)).to.include({
        quantity: 3,
        note: "owner's note",
      });
      const skips = await sys.api.get<{ skips: string[] }>(`/goals/${owner.ids.goal}/skips`, auth);
      expect(skips.body.skips).to.include(owner.ids.skipDate);
      const hooks = await sys.api.get<{ items: { id: string }[] }>("/webhooks", auth);
      expect(hooks.body.items.map((hook) => hook.id)).to.include(owner.ids.webhook);
      const inbox = await sys.api.get<{ items: { id: string; readAt: string | null }[] }>(
        "/notifications",
        auth,
      );
      expect(inbox.body.items.find((item) => item.id === owner.ids.notification)?.readAt).to.equal(null);
      const me = await sys.api.get<{ displayName: string }>("/me", auth);
      expect(me.body.displayName).to.not.equal("Probe");
      const refreshed = await sys.api.post("/auth/refresh", { refreshToken: owner.session.refreshToken });
      expect(refreshed.status, "the intruder's logout did not revoke the owner's session").to.equal(200);
    });
  });
});
