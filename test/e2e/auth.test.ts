import { expect } from "chai";
import { newEmail, registerUser, type Session } from "../helpers/api.ts";
import { useStack } from "../helpers/stack.ts";

type User = Session["user"] & {
  displayName: string;
  dayStartHour: number;
  weekStart: string;
  onboardingCompletedAt: string | null;
};
type ErrorBody = { error: { code: string; message: string; status: number; details?: { path: string }[] } };

describe(`Auth and profile over HTTP`, function () {
  const sys = useStack();

  describe("POST /auth/register", () => {
    it("creates an account with the contract's defaults and signs it in", async () => {
      const email = newEmail("Mixed.Case");
      const response = await sys.api.post<Session & { user: User }>("/auth/register", {
        email,
        password: "password1",
      });
      expect(response.status).to.equal(201);
      const { user, accessToken, refreshToken, expiresIn } = response.body;
      expect(user.email).to.equal(email.toLowerCase());
      expect(user).to.include({
        role: "user",
        timezone: "UTC",
        dayStartHour: 0,
        weekStart: "monday",
        onboardingCompletedAt: null,
      });
      expect(accessToken.split(".")).to.have.length(3);
      expect(refreshToken).to.be.a("string").and.not.equal(accessToken);
      expect(expiresIn).to.be.within(1, 900);
      const me = await sys.api.get<User>("/me", { token: accessToken });
      expect(me.body.id).to.equal(user.id);
    });

    it("keeps a chosen display name and IANA time zone", async () => {
      const session = await registerUser(sys.api, { displayName: "Ada", timezone: "Asia/Kolkata" });
      expect(session.user).to.include({ timezone: "Asia/Kolkata" });
      expect((session.user as User).displayName).to.equal("Ada");
    });

    it("refuses an email already taken, whatever its case (409 EMAIL_TAKEN)", async () => {
      const email = newEmail("taken");
      await sys.api.post("/auth/register", { email, password: "password1" });
      const again = await sys.api.post<ErrorBody>("/auth/register", {
        email: email.toUpperCase(),
        password: "password2",
      });
      expect(again.status).to.equal(409);
      expect(again.body.error.code).to.equal("EMAIL_TAKEN");
    });

    it("lists every invalid field (422 VALIDATION_ERROR)", async () => {
      const response = await sys.api.post<ErrorBody>("/auth/register", {
        email: "not-an-email",
        password: "short",
      });
      expect(response.status).to.equal(422);
      expect(response.body.error.code).to.equal("VALIDATION_ERROR");
      expect(response.body.error.details?.map((d) => d.path)).to.have.members(["/email", "/password"]);
    });

    it("refuses an unknown time zone and a password over 128 characters", async () => {
      const zone = await sys.api.post<ErrorBody>("/auth/register", {
        email: newEmail(),
        password: "password1",
        timezone: "Mars/Olympus",
      });
      expect(zone.status).to.equal(422);
      expect(zone.body.error.details?.[0]?.path).to.equal("/timezone");
      const long = await sys.api.post<ErrorBody>("/auth/register", {
        email: newEmail(),
        password: "x".repeat(129),
      });
      expect(long.status).to.equal(422);
    });

    it("never lets a client choose its role or id (mass assignment is a 422)", async () => {
      for (const extra of [{ role: "admin" }, { id: "chosen" }, { userId: "x" }]) {
        const response = await sys.api.post<ErrorBody>("/auth/register", {
          email: newEmail(),
          password: "password1",
          ...extra,
        });
        expect(response.status).to.equal(422);
        expect(response.body.error.details?.[0]?.path).to.equal(`/${Object.keys(extra)[0]}`);
      }
    });

    it("makes emails listed in ADMIN_EMAILS admins", async function () {
      const response = await sys.api.post<Session>("/auth/register", {
        email: "Admin@Example.test",
        password: "password1",
      });
      if (response.status === 409) this.skip(); // registered by an earlier run of this suite on the same stack
      expect(response.body.user.role).to.equal("admin");
    });
  });

  describe("POST /auth/login", () => {
    it("signs in with the right password, whatever the email's case", async () => {
      const session = await registerUser(sys.api);
      const response = await sys.api.post<Session>("/auth/login", {
        email: session.user.email.toUpperCase(),
        password: session.password,
      });
      expect(response.status).to.equal(200);
      expect(response.body.user.id).to.equal(session.user.id);
    });

    it("answers an unknown email and a wrong password with the same 401", async () => {
      const session = await registerUser(sys.api);
      const wrong = await sys.api.post<ErrorBody>("/auth/login", {
        email: session.user.email,
        password: "wrong password",
      });
      const unknown = await sys.api.post<ErrorBody>("/auth/login", {
        email: newEmail("nobody"),
        password: "wrong password",
      });
      expect(wrong.status).to.equal(401);
      expect(unknown.status).to.equal(401);
      expect(wrong.body.error.code).to.equal("UNAUTHORIZED");
      expect(unknown.body.error.message).to.equal(wrong.body.error.message);
    });
  });

  describe("POST /auth/refresh", () => {
    it("rotates: each refresh token works once and gives a new pair", async () => {
      const session = await registerUser(sys.api);
      const first = await sys.api.post<Session>("/auth/refresh", { refreshToken: session.refreshToken });
      expect(first.status).to.equal(200);
      expect(first.body.refreshToken).to.not.equal(session.refreshToken);
      const me = await sys.api.get("/me", { token: first.body.accessToken });
      expect(me.status).to.equal(200);
      const second = await sys.api.post<Session>("/auth/refresh", { refreshToken: first.body.refreshToken });
      expect(second.status).to.equal(200);
    });

    it("treats a reused refresh token as theft: 401, and the whole family is revoked", async () => {
      const session = await registerUser(sys.api);
      const rotated = await sys.api.post<Session>("/auth/refresh", { refreshToken: session.refreshToken });
      const replay = await sys.api.post<ErrorBody>("/auth/refresh", { refreshToken: session.refreshToken });
      expect(replay.status).to.equal(401);
      expect(replay.body.error.code).to.equal("UNAUTHORIZED");
      const legitimate = await sys.api.post("/auth/refresh", { refreshToken: rotated.body.refreshToken });
      expect(legitimate.status).to.equal(401);
    });

    it("leaves other sessions (families) of the same user alone", async () => {
      const session = await registerUser(sys.api);
      const other = await sys.api.post<Session>("/auth/login", {
        email: session.user.email,
        password: session.password,
      });
      await sys.api.post("/auth/refresh", { refreshToken: session.refreshToken });
      await sys.api.post("/auth/refresh", { refreshToken: session.refreshToken });
      const untouched = await sys.api.post("/auth/refresh", { refreshToken: other.body.refreshToken });
      expect(untouched.status).to.equal(200);
    });

    it("refuses a token it never issued, and an access token in its place", async () => {
      const session = await registerUser(sys.api);
      for (const refreshToken of ["made-up-token", session.accessToken]) {
        const response = await sys.api.post("/auth/refresh", { refreshToken });
        expect(response.status).to.equal(401);
      }
    });

    it("lets only one of two racing refreshes with the same token win", async () => {
      const session = await registerUser(sys.api);
      const answers = await Promise.all(
        [1, 2].map(() => sys.api.post("/auth/refresh", { refreshToken: session.refreshToken })),
      );
      expect(answers.map((a) => a.status).sort()).to.deep.equal([200, 401]);
    });
  });

  describe("POST /auth/logout", () => {
    it("revokes the refresh token's family (204)", async () => {
      const session = await registerUser(sys.api);
      const response = await sys.api.post(
        "/auth/logout",
        { refreshToken: session.refreshToken },
        { token: session.accessToken },
      );
      expect(response.status).to.equal(204);
      expect(response.text).to.equal("");
      const refresh = await sys.api.post("/auth/refresh", { refreshToken: session.refreshToken });
      expect(refresh.status).to.equal(401);
    });

    it("needs an access token, and cannot revoke another user's session", async () => {
      const victim = await registerUser(sys.api);
      const attacker = await registerUser(sys.api);
      const anonymous = await sys.api.post("/auth/logout", { refreshToken: victim.refreshToken });
      expect(anonymous.status).to.equal(401);
      const foreign = await sys.api.post(
        "/auth/logout",
        { refreshToken: victim.refreshToken },
        { token: attacker.accessToken },
      );
      expect(foreign.status).to.equal(204);
      const stillValid = await sys.api.post("/auth/refresh", { refreshToken: victim.refreshToken });
      expect(stillValid.status).to.equal(200);
    });
  });

  describe("GET and PATCH /me", () => {
    it("refuses a missing, malformed or forged token (401)", async () => {
      const session = await registerUser(sys.api);
      const [header, payload] = session.accessToken.split(".");
      const forged = `${header}.${payload}.${"A".repeat(86)}`;
      for (const token of [undefined, "garbage", forged]) {
        const response = await sys.api.get<ErrorBody>("/me", { token });
        expect(response.status).to.equal(401);
        expect(response.body.error.code).to.equal("UNAUTHORIZED");
      }
      const basic = await sys.api.get("/me", { headers: { authorization: "Basic dXNlcjpwYXNz" } });
      expect(basic.status).to.equal(401);
    });

    it("updates display name, zone, day start and week start", async () => {
      const session = await registerUser(sys.api);
      const patch = {
        displayName: "Night owl",
        timezone: "America/New_York",
        dayStartHour: 4,
        weekStart: "sunday",
      };
      const response = await sys.api.patch<User>("/me", patch, { token: session.accessToken });
      expect(response.status).to.equal(200);
      expect(response.body).to.include(patch);
      const me = await sys.api.get<User>("/me", { token: session.accessToken });
      expect(me.body).to.include(patch);
    });

    it("refuses out-of-range values, unknown zones and unknown fields (422)", async () => {
      const session = await registerUser(sys.api);
      const cases: [Record<string, unknown>, string][] = [
        [{ dayStartHour: 24 }, "/dayStartHour"],
        [{ weekStart: "friday" }, "/weekStart"],
        [{ timezone: "Europe/Atlantis" }, "/timezone"],
        [{ timezone: "+05:30" }, "/timezone"],
        [{ email: "new@example.test" }, "/email"],
        [{ role: "admin" }, "/role"],
      ];
      for (const [patch, path] of cases) {
        const response = await sys.api.patch<ErrorBody>("/me", patch, { token: session.accessToken });
        expect(response.status, JSON.stringify(patch)).to.equal(422);
        expect(response.body.error.details?.[0]?.path).to.equal(path);
      }
    });
  });

  describe("POST /me/onboarding/complete", () => {
    it("sets onboardingCompletedAt once and keeps it on repeats", async () => {
      const session = await registerUser(sys.api);
      const first = await sys.api.post<User>("/me/onboarding/complete", undefined, {
        token: session.accessToken,
      });
      expect(first.status).to.equal(200);
      expect(first.body.onboardingCompletedAt).to.be.a("string");
      const second = await sys.api.post<User>("/me/onboarding/complete", undefined, {
        token: session.accessToken,
      });
      expect(second.body.onboardingCompletedAt).to.equal(first.body.onboardingCompletedAt);
    });
  });

  describe("POST /me/password", () => {
    it("needs the current password (401 otherwise)", async () => {
      const session = await registerUser(sys.api);
      const response = await sys.api.post<ErrorBody>(
        "/me/password",
        { currentPassword: "not it", newPassword: "new password 1" },
        { token: session.accessToken },
      );
      expect(response.status).to.equal(401);
    });

    it("changes the password and revokes every refresh token of the user", async () => {
      const session = await registerUser(sys.api);
      const other = await sys.api.post<Session>("/auth/login", {
        email: session.user.email,
        password: session.password,
      });
      const response = await sys.api.post(
        "/me/password",
        { currentPassword: session.password, newPassword: "new password 1" },
        { token: session.accessToken },
      );
      expect(response.status).to.equal(204);
      for (const refreshToken of [session.refreshToken, other.body.refreshToken]) {
        expect((await sys.api.post("/auth/refresh", { refreshToken })).status).to.equal(401);
      }
      expect(
        (await sys.api.post("/auth/login", { email: session.user.email, password: session.password })).status,
      ).to.equal(401);
      expect(
        (await sys.api.post("/auth/login", { email: session.user.email, password: "new password 1" })).status,
      ).to.equal(200);
    });

    it("holds the new password to the same rules (422)", async () => {
      const session = await registerUser(sys.api);
      const response = await sys.api.post<ErrorBody>(
        "/me/password",
        { currentPassword: session.password, newPassword: "short" },
        { token: session.accessToken },
      );
      expect(response.status).to.equal(422);
      expect(response.body.error.details?.[0]?.path).to.equal("/newPassword");
    });
  });

  describe("DELETE /me", () => {
    it("deletes the account: its tokens stop working and its email is free again", async () => {
      const session = await registerUser(sys.api);
      const response = await sys.api.delete("/me", { token: session.accessToken });
      expect(response.status).to.equal(204);
      expect((await sys.api.get("/me", { token: session.accessToken })).status).to.equal(401);
      expect((await sys.api.post("/auth/refresh", { refreshToken: session.refreshToken })).status).to.equal(
        401,
      );
      expect(
        (await sys.api.post("/auth/login", { email: session.user.email, password: session.password })).status,
      ).to.equal(401);
      const again = await sys.api.post("/auth/register", {
        email: session.user.email,
        password: "password1",
      });
      expect(again.status).to.equal(201);
    });
  });
});
