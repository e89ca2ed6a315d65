import { expect } from "chai";
import { newEmail, registerUser } from "../helpers/api.ts";
import { useSecurityStack } from "../helpers/security-stack.ts";

type ErrorBody = { error: { code: string; message: string } };

/**
 * Login throttling per email: 10 failures in 15 minutes, then 429 with Retry-After, even for the right
 * password. The whole file stays under the per-address limit (100 failures) so that only the per-email
 * rule is at work.
 */
describe("Security: login brute force", function () {
  this.timeout(120_000);
  const sys = useSecurityStack();

  const WINDOW_MS = 15 * 60 * 1000;

  /** The counts live in fixed 15-minute windows: never start a series within 10 s of a window's end. */
  beforeEach(async () => {
    const left = WINDOW_MS - (Date.now() % WINDOW_MS);
    if (left < 10_000) await new Promise((resolve) => setTimeout(resolve, left + 250));
  });

  const login = (email: string, password: string, headers: Record<string, string> = {}) =>
    sys.api.post<ErrorBody>("/auth/login", { email, password }, { headers });

  it("the 11th attempt within 15 minutes is 429 RATE_LIMITED with Retry-After, even with the right password", async () => {
    const user = await registerUser(sys.api);
    for (let attempt = 1; attempt <= 10; attempt += 1) {
      const response = await login(user.user.email, `wrong password ${attempt}`);
      expect(response.status, `attempt ${attempt}`).to.equal(401);
    }
    const blocked = await login(user.user.email, user.password);
    expect(blocked.status).to.equal(429);
    expect(blocked.body.error.code).to.equal("RATE_LIMITED");
    const retryAfter = blocked.headers.get("retry-after");
    expect(retryAfter).to.match(/^\d+$/);
    expect(Number(retryAfter)).to.be.within(1, 15 * 60);
    expect(blocked.text).to.not.include("accessToken");
  });

  it("spelling the email differently (case, spaces) counts against the same account", async () => {
    const user = await registerUser(sys.api);
    const email = user.user.email;
    const spellings = [
      email,
      email.toUpperCase(),
      ` ${email}`,
      `${email} `,
      email.replace(/^./, (c) => c.toUpperCase()),
    ];
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const response = await login(spellings[attempt % spellings.length]!, "wrong password");
      expect(
        response.status,
        `attempt ${attempt + 1} as ${JSON.stringify(spellings[attempt % spellings.length])}`,
      ).to.equal(401);
    }
    for (const spelling of spellings) {
      const blocked = await login(spelling, user.password);
      expect(blocked.status, JSON.stringify(spelling)).to.equal(429);
    }
  });

  it("forwarding headers do not reset or spread the count", async () => {
    const user = await registerUser(sys.api);
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const response = await login(user.user.email, "wrong password", {
        "x-forwarded-for": `203.0.113.${attempt}`,
        "x-real-ip": `198.51.100.${attempt}`,
        forwarded: `for=192.0.2.${attempt}`,
      });
      expect(response.status).to.equal(401);
    }
    const blocked = await login(user.user.email, user.password, { "x-forwarded-for": "203.0.113.200" });
    expect(blocked.status).to.equal(429);
  });

  it("an unknown email answers like a wrong password, and is throttled the same (no account enumeration)", async () => {
    const user = await registerUser(sys.api);
    const known = await login(user.user.email, "wrong password");
    const unknownEmail = newEmail("nobody");
    const unknown = await login(unknownEmail, "wrong password");
    expect(unknown.status).to.equal(known.status);
    expect(unknown.body.error.code).to.equal(known.body.error.code);
    expect(unknown.body.error.message).to.equal(known.body.error.message);
    for (let attempt = 2; attempt <= 10; attempt += 1) await login(unknownEmail, "wrong password");
    const blocked = await login(unknownEmail, "wrong password");
    expect(blocked.status, "an email with no account is throttled too").to.equal(429);
  });

  it("one account's lock-out leaves other accounts alone", async () => {
    const bystander = await registerUser(sys.api);
    const response = await login(bystander.user.email, bystander.password);
    expect(response.status).to.equal(200);
  });
});
