import { expect } from "chai";
import type { Errors } from "moleculer";
import { verifyAccessToken } from "../../shared/auth/tokens.ts";
import type { ChannelPayloads } from "../../shared/bus/index.ts";
import { loadSigningKeys } from "../../shared/auth/keys.ts";
import type { RequestMeta } from "../../shared/context.ts";
import { users } from "../../services/auth/model.ts";
import type { UserView } from "../../services/auth/auth.service.ts";
import { type ServiceHarness, startServices } from "../helpers/service-harness.ts";

interface SessionResult {
  user: UserView;
  accessToken: string;
  refreshToken: string;
}

async function rejection(promise: Promise<unknown>): Promise<Errors.MoleculerError> {
  try {
    await promise;
  } catch (error) {
    return error as Errors.MoleculerError;
  }
  throw new Error("expected the call to fail");
}

describe("auth service (a broker of its own)", function () {
  let harness: ServiceHarness;
  const deletions: ChannelPayloads["user.deleted"][] = [];

  before(async function () {
    this.timeout(30_000);
    harness = await startServices(["auth"], { ADMIN_EMAILS: "boss@example.test" });
    await harness.system.bus.subscribe("user.deleted", "auth-test-observer", async (payload) => {
      deletions.push(payload);
    });
  });
  after(async () => harness?.stop());

  const asUser = (user: UserView): RequestMeta => ({
    user: { id: user.id, role: user.role },
    clientIp: "192.0.2.1",
  });

  it("registers a user and signs an access token the gateway can verify with the public key", async () => {
    const result = await harness.call<SessionResult>("auth.register", {
      email: "Someone@Example.test",
      password: "password1",
    });
    expect(result.user.email).to.equal("someone@example.test");
    const keys = await loadSigningKeys(harness.config);
    expect(verifyAccessToken(result.accessToken, keys.publicKey)).to.deep.equal({
      userId: result.user.id,
      role: "user",
    });
  });

  it("gives ADMIN_EMAILS the admin role", async () => {
    const result = await harness.call<SessionResult>("auth.register", {
      email: "BOSS@example.test",
      password: "password1",
    });
    expect(result.user.role).to.equal("admin");
  });

  it("sends contract errors across the transporter with their code, status and details", async () => {
    const error = await rejection(
      harness.call("auth.register", { email: "x@example.test", password: "short", extra: 1 }),
    );
    expect(error.type).to.equal("VALIDATION_ERROR");
    expect(error.code).to.equal(422);
    const details = (error.data as { details: { path: string }[] }).details.map((d) => d.path);
    expect(details).to.have.members(["/password", "/extra"]);
  });

  it("counts failed logins by the address the gateway passes in meta", async () => {
    const result = await harness.call<SessionResult>("auth.register", {
      email: "throttled@example.test",
      password: "password1",
    });
    for (let i = 0; i < 10; i += 1) {
      const error = await rejection(
        harness.call(
          "auth.login",
          { email: result.user.email, password: "nope" },
          { clientIp: "198.51.100.7" },
        ),
      );
      expect(error.type).to.equal("UNAUTHORIZED");
    }
    const blocked = await rejection(
      harness.call(
        "auth.login",
        { email: result.user.email, password: "password1" },
        { clientIp: "198.51.100.7" },
      ),
    );
    expect(blocked.type).to.equal("RATE_LIMITED");
    expect((blocked.data as { retryAfterSeconds: number }).retryAfterSeconds).to.be.within(1, 900);
  });

  it("publishes user.deleted on the channel bus when an account is deleted", async function () {
    this.timeout(15_000);
    const result = await harness.call<SessionResult>("auth.register", {
      email: "leaving@example.test",
      password: "password1",
    });
    await harness.call("auth.deleteAccount", {}, asUser(result.user));
    const deadline = Date.now() + 10_000;
    while (!deletions.some((d) => d.userId === result.user.id) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const event = deletions.find((d) => d.userId === result.user.id);
    expect(event, "user.deleted received").to.not.equal(undefined);
    expect(Date.parse(event!.deletedAt)).to.be.closeTo(Date.now(), 15_000);
    const me = await rejection(harness.call("auth.me", {}, asUser(result.user)));
    expect(me.type).to.equal("UNAUTHORIZED");
  });

  it("finishes a deletion that crashed before publishing: the sweeper publishes and removes it", async function () {
    this.timeout(15_000);
    const result = await harness.call<SessionResult>("auth.register", {
      email: "crashed@example.test",
      password: "password1",
    });
    // The state a crash between marking and publishing leaves behind.
    const collection = await harness.system.storage.open(users);
    await collection.updateOne({ _id: result.user.id }, { $set: { deletedAt: new Date() } });
    await harness.call("auth.sweep");
    const deadline = Date.now() + 10_000;
    while (!deletions.some((d) => d.userId === result.user.id) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(deletions.some((d) => d.userId === result.user.id)).to.equal(true);
    expect(await collection.findOne({ _id: result.user.id })).to.equal(null);
  });

  it("reports its database and bus through auth.health", async () => {
    const report = await harness.call<{ ready: boolean; checks: Record<string, string> }>("auth.health");
    expect(report).to.deep.equal({ ready: true, checks: { database: "ok", bus: "ok" } });
  });
});
