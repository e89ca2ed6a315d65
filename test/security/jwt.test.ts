import { expect } from "chai";
import { registerUser } from "../helpers/api.ts";
import { ADMIN_ROUTES, fillPath, type UserSession } from "../helpers/security-routes.ts";
import { STACK_KEYS, useSecurityStack } from "../helpers/security-stack.ts";
import {
  accessClaims,
  accessHeader,
  attackerKeys,
  attackerRsaKeys,
  base64url,
  decodeSegment,
  publicJwk,
  signEs256,
  signHs,
  signingInput,
  signRs256,
  tamper,
  unsigned,
} from "../helpers/security-tokens.ts";

type ErrorBody = { error: { code: string; message: string } };

describe("Security: access tokens", function () {
  this.timeout(60_000);
  const sys = useSecurityStack();
  const attacker = attackerKeys();
  let user: UserSession;
  let other: UserSession;

  before(async () => {
    user = await registerUser(sys.api);
    other = await registerUser(sys.api);
  });

  /** GET /me with the Authorization header exactly as given. */
  const meWith = (authorization: string | undefined, extra: Record<string, string> = {}) =>
    sys.api.get<ErrorBody & { id: string }>("/me", {
      headers: authorization === undefined ? extra : { authorization, ...extra },
    });

  async function expectRefused(token: string, what: string): Promise<void> {
    const response = await meWith(`Bearer ${token}`);
    expect(response.status, `${what}: ${response.text}`).to.equal(401);
    expect(response.body.error.code, what).to.equal("UNAUTHORIZED");
  }

  describe("control: the suite's own tokens are right", () => {
    it("a token made here with the stack's key and the real claims is accepted (so each refusal below has one cause)", async () => {
      const token = signEs256(accessHeader(), accessClaims(user.user.id), STACK_KEYS.privateKey);
      const response = await meWith(`Bearer ${token}`);
      expect(response.status, response.text).to.equal(200);
      expect(response.body.id).to.equal(user.user.id);
    });

    it("a real token's header and claims are the ones the forgeries copy", () => {
      const [header, payload] = user.accessToken.split(".") as [string, string];
      expect(decodeSegment(header)).to.deep.equal({ alg: "ES256", typ: "at+jwt" });
      expect(decodeSegment(payload)).to.include({
        iss: "goal-tracker",
        aud: "goal-tracker-api",
        sub: user.user.id,
      });
    });
  });

  describe("forged and altered tokens: 401 UNAUTHORIZED", () => {
    it("alg none, in any spelling, with or without the real signature", async () => {
      const claims = accessClaims(user.user.id);
      const realSignature = user.accessToken.split(".")[2]!;
      for (const alg of ["none", "None", "NONE", "nOnE"]) {
        await expectRefused(unsigned(accessHeader({ alg }), claims), `alg ${alg}`);
        await expectRefused(unsigned(accessHeader({ alg }), claims, realSignature), `alg ${alg} + signature`);
      }
      await expectRefused(unsigned(accessHeader({ alg: undefined }), claims), "no alg at all");
    });

    it("HMAC algorithms, keyed with the stack's public key (key confusion) or any secret", async () => {
      const claims = accessClaims(user.user.id);
      for (const bits of [256, 384, 512] as const) {
        const header = accessHeader({ alg: `HS${bits}` });
        await expectRefused(signHs(header, claims, STACK_KEYS.publicKey, bits), `HS${bits}, public key PEM`);
        await expectRefused(signHs(header, claims, "secret", bits), `HS${bits}, "secret"`);
        await expectRefused(signHs(header, claims, "", bits), `HS${bits}, empty secret`);
      }
      // The header says ES256 but the signature is an HMAC with the public key.
      const input = signingInput(accessHeader(), claims);
      const hmacUnderEs = signHs(accessHeader(), claims, STACK_KEYS.publicKey).split(".")[2]!;
      await expectRefused(`${input}.${hmacUnderEs}`, "ES256 header, HMAC signature");
    });

    it("a key that is not the stack's: another P-256 key, an embedded jwk, RS256", async () => {
      const claims = accessClaims(user.user.id);
      await expectRefused(signEs256(accessHeader(), claims, attacker.privateKey), "another ES256 key");
      const jwk = publicJwk(attacker.publicKey);
      await expectRefused(signEs256(accessHeader({ jwk }), claims, attacker.privateKey), "jwk header");
      await expectRefused(
        signEs256(accessHeader({ kid: "../../keys/jwt-public.pem" }), claims, attacker.privateKey),
        "kid path",
      );
      await expectRefused(
        signEs256(accessHeader({ jku: "http://127.0.0.1:1/jwks.json" }), claims, attacker.privateKey),
        "jku header",
      );
      const rsa = attackerRsaKeys();
      await expectRefused(signRs256(accessHeader({ alg: "RS256" }), claims, rsa.privateKey), "RS256");
      const input = signingInput(accessHeader(), claims);
      await expectRefused(`${input}.${Buffer.alloc(64).toString("base64url")}`, "all-zero ES256 signature");
    });

    it("expired or not yet valid, even when signed with the stack's own key", async () => {
      const now = Math.floor(Date.now() / 1000);
      const cases: [string, Record<string, unknown>][] = [
        ["exp in the past", { iat: now - 3600, exp: now - 1 }],
        ["exp far in the past", { iat: 1, exp: 2 }],
        ["nbf in the future", { nbf: now + 3600 }],
        ["exp is a string", { exp: String(now + 600) }],
      ];
      for (const [what, overrides] of cases) {
        const claims = accessClaims(user.user.id, overrides);
        await expectRefused(signEs256(accessHeader(), claims, STACK_KEYS.privateKey), `${what}, stack key`);
        await expectRefused(signEs256(accessHeader(), claims, attacker.privateKey), `${what}, another key`);
      }
    });

    it("another issuer or audience, or none, even when signed with the stack's own key", async () => {
      const cases: [string, Record<string, unknown>][] = [
        ["wrong iss", { iss: "someone-else" }],
        ["missing iss", { iss: undefined }],
        ["wrong aud", { aud: "another-api" }],
        ["missing aud", { aud: undefined }],
        ["aud of a refresh token", { aud: "goal-tracker-refresh" }],
      ];
      for (const [what, overrides] of cases) {
        const claims = accessClaims(user.user.id, overrides);
        for (const key of Object.keys(claims)) if (claims[key] === undefined) delete claims[key];
        await expectRefused(signEs256(accessHeader(), claims, STACK_KEYS.privateKey), what);
      }
    });

    it("a typ header other than at+jwt, or none, even when signed with the stack's own key", async () => {
      for (const typ of ["JWT", "jwt", "refresh+jwt", "id+jwt", "", undefined]) {
        const token = signEs256(accessHeader({ typ }), accessClaims(user.user.id), STACK_KEYS.privateKey);
        await expectRefused(token, `typ ${String(typ)}`);
      }
    });

    it("claims the gateway cannot use, even when signed with the stack's own key", async () => {
      for (const [what, overrides] of [
        ["no sub", { sub: undefined }],
        ["numeric sub", { sub: 12345 }],
        ["no role", { role: undefined }],
        ["role superadmin", { role: "superadmin" }],
        ["role array", { role: ["admin"] }],
      ] as const) {
        const claims = accessClaims(user.user.id, overrides);
        for (const key of Object.keys(claims)) if (claims[key] === undefined) delete claims[key];
        await expectRefused(signEs256(accessHeader(), claims, STACK_KEYS.privateKey), what);
      }
    });

    it("a real token with its payload changed (sub, role, exp) and its signature kept", async () => {
      await expectRefused(
        tamper(user.accessToken, (p) => ({ ...p, sub: other.user.id })),
        "sub → other user",
      );
      await expectRefused(
        tamper(user.accessToken, (p) => ({ ...p, role: "admin" })),
        "role → admin",
      );
      await expectRefused(
        tamper(user.accessToken, (p) => ({ ...p, exp: Number(p.exp) + 86_400 })),
        "exp + 1 day",
      );
      const [, payload, signature] = user.accessToken.split(".") as [string, string, string];
      await expectRefused(
        `${base64url({ alg: "ES256", typ: "JWT" })}.${payload}.${signature}`,
        "header → JWT",
      );
    });

    it("a tampered role reaches no admin route", async () => {
      const admin = tamper(user.accessToken, (p) => ({ ...p, role: "admin" }));
      for (const route of ADMIN_ROUTES) {
        const response = await sys.api.request<ErrorBody>(route.method, fillPath(route, {}), {
          token: admin,
        });
        expect(response.status, response.text).to.equal(401);
      }
    });

    it("the refresh token, a truncated token, garbage", async () => {
      const token = user.accessToken;
      const [header, payload, signature] = token.split(".") as [string, string, string];
      const cases: [string, string][] = [
        ["refresh token", user.refreshToken],
        ["last 10 characters cut", token.slice(0, -10)],
        ["signature removed", `${header}.${payload}.`],
        ["two segments", `${header}.${payload}`],
        ["signature only", signature],
        ["four segments", `${token}.${signature}`],
        ["garbage", "abc"],
        ["dots", "..."],
        ["a.b.c", "a.b.c"],
        ["8 KiB", "A".repeat(8 * 1024)],
        ["JSON", base64url({ sub: user.user.id, role: "admin" })],
      ];
      for (const [what, value] of cases) await expectRefused(value, what);
    });
  });

  describe("where the token is read from", () => {
    it("only an Authorization: Bearer header; another scheme, no scheme, or a token elsewhere is 401", async () => {
      const token = user.accessToken;
      const refused: [string, Record<string, string>][] = [
        ["Basic scheme", { authorization: `Basic ${token}` }],
        ["Token scheme", { authorization: `Token ${token}` }],
        ["JWT scheme", { authorization: `JWT ${token}` }],
        ["no scheme", { authorization: token }],
        ["Bearer without token", { authorization: "Bearer" }],
        ["Bearer and a space", { authorization: "Bearer " }],
        ["Bearer with a trailing word", { authorization: `Bearer ${token} extra` }],
        ["Bearer, then garbage, then the token", { authorization: `Bearer garbage ${token}` }],
        ["two Bearer values", { authorization: `Bearer ${token}, Bearer ${token}` }],
        ["Bearer: with a colon", { authorization: `Bearer: ${token}` }],
        ["in a cookie", { cookie: `token=${token}; access_token=${token}` }],
        ["in X-Access-Token", { "x-access-token": token }],
      ];
      for (const [what, headers] of refused) {
        const response = await sys.api.get<ErrorBody>("/me", { headers });
        expect(response.status, `${what}: ${response.text}`).to.equal(401);
        expect(response.body.error.code).to.equal("UNAUTHORIZED");
      }
      const inQuery = await fetch(`${sys.stack.baseUrl}/me?access_token=${token}`);
      expect(inQuery.status, "a token in the query string").to.equal(401);
    });

    it("extra spaces and the scheme's case are tolerated or refused, never misread", async () => {
      for (const authorization of [
        `Bearer  ${user.accessToken}`,
        `  Bearer ${user.accessToken}  `,
        `bearer ${user.accessToken}`,
        `BEARER ${user.accessToken}`,
        `Bearer\t${user.accessToken}`,
      ]) {
        const response = await meWith(authorization);
        expect(response.status, JSON.stringify(authorization)).to.be.oneOf([200, 401]);
        if (response.status === 200) expect(response.body.id).to.equal(user.user.id);
      }
    });
  });
});
