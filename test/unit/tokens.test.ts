import { expect } from "chai";
import { createHmac } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import jwt from "jsonwebtoken";
import { generateKeyPair, loadSigningKeys } from "../../shared/auth/keys.ts";
import {
  ACCESS_TOKEN_TTL_SECONDS,
  ACCESS_TOKEN_TYPE,
  signAccessToken,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  AccessTokenVerifier,
  verifyAccessToken,
} from "../../shared/auth/tokens.ts";

const keys = generateKeyPair();
const otherKeys = generateKeyPair();

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** A token that is right in every respect except the ones a test overrides. */
function forge(
  overrides: { payload?: Record<string, unknown>; typ?: string; privateKey?: string } = {},
): string {
  const payload = {
    sub: "user-1",
    role: "user",
    iss: TOKEN_ISSUER,
    aud: TOKEN_AUDIENCE,
    iat: nowSeconds(),
    exp: nowSeconds() + 600,
    ...overrides.payload,
  };
  return jwt.sign(payload, overrides.privateKey ?? keys.privateKey, {
    algorithm: "ES256",
    header: { alg: "ES256", typ: overrides.typ ?? ACCESS_TOKEN_TYPE },
  });
}

describe("access tokens (shared/auth/tokens.ts)", () => {
  it("a signed token verifies to its claims", () => {
    const token = signAccessToken({ userId: "user-42", role: "admin" }, keys.privateKey);
    expect(verifyAccessToken(token, keys.publicKey)).to.deep.equal({ userId: "user-42", role: "admin" });
  });

  it("is an ES256 JWT typed at+jwt, issued by and for this API, living at most 15 minutes", () => {
    const token = signAccessToken({ userId: "user-42", role: "user" }, keys.privateKey);
    const decoded = jwt.decode(token, { complete: true });
    expect(decoded).to.not.equal(null);
    expect(decoded?.header).to.include({ alg: "ES256", typ: "at+jwt" });
    const payload = decoded?.payload as jwt.JwtPayload;
    expect(payload).to.include({ sub: "user-42", iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, role: "user" });
    expect(payload.jti).to.be.a("string").with.length.greaterThan(0);
    expect(ACCESS_TOKEN_TTL_SECONDS).to.be.at.most(15 * 60);
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).to.equal(ACCESS_TOKEN_TTL_SECONDS);
  });

  it("every token gets its own id", () => {
    const a = jwt.decode(signAccessToken({ userId: "u", role: "user" }, keys.privateKey)) as jwt.JwtPayload;
    const b = jwt.decode(signAccessToken({ userId: "u", role: "user" }, keys.privateKey)) as jwt.JwtPayload;
    expect(a.jti).to.not.equal(b.jti);
  });

  it("the forged baseline used below does verify (so each rejection is due to its one defect)", () => {
    expect(verifyAccessToken(forge(), keys.publicKey)).to.deep.equal({ userId: "user-1", role: "user" });
  });

  describe("verification refuses (returns null for)", () => {
    it("an unsigned token with alg none", () => {
      const body = base64url({
        sub: "user-1",
        role: "admin",
        iss: TOKEN_ISSUER,
        aud: TOKEN_AUDIENCE,
        exp: nowSeconds() + 600,
      });
      const token = `${base64url({ alg: "none", typ: ACCESS_TOKEN_TYPE })}.${body}.`;
      expect(verifyAccessToken(token, keys.publicKey)).to.equal(null);
    });

    it("an HS256 token signed with the PEM public key as its secret (algorithm confusion)", () => {
      const header = base64url({ alg: "HS256", typ: ACCESS_TOKEN_TYPE });
      const body = base64url({
        sub: "user-1",
        role: "admin",
        iss: TOKEN_ISSUER,
        aud: TOKEN_AUDIENCE,
        iat: nowSeconds(),
        exp: nowSeconds() + 600,
      });
      const signature = createHmac("sha256", keys.publicKey).update(`${header}.${body}`).digest("base64url");
      expect(verifyAccessToken(`${header}.${body}.${signature}`, keys.publicKey)).to.equal(null);
    });

    it("a token from another issuer", () => {
      expect(verifyAccessToken(forge({ payload: { iss: "someone-else" } }), keys.publicKey)).to.equal(null);
    });

    it("a token for another audience", () => {
      expect(verifyAccessToken(forge({ payload: { aud: "another-api" } }), keys.publicKey)).to.equal(null);
    });

    it("an expired token", () => {
      const token = forge({ payload: { iat: nowSeconds() - 1000, exp: nowSeconds() - 10 } });
      expect(verifyAccessToken(token, keys.publicKey)).to.equal(null);
    });

    it("a token whose payload was tampered with (user → admin)", () => {
      const token = signAccessToken({ userId: "user-1", role: "user" }, keys.privateKey);
      const [header, payload, signature] = token.split(".");
      const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString()) as Record<
        string,
        unknown
      >;
      const tampered = `${header}.${base64url({ ...claims, role: "admin" })}.${signature}`;
      expect(verifyAccessToken(tampered, keys.publicKey)).to.equal(null);
    });

    it("a token of another type (typ JWT instead of at+jwt), such as an ID token", () => {
      expect(verifyAccessToken(forge({ typ: "JWT" }), keys.publicKey)).to.equal(null);
    });

    it("a token signed by another key pair", () => {
      expect(verifyAccessToken(forge({ privateKey: otherKeys.privateKey }), keys.publicKey)).to.equal(null);
      const genuine = signAccessToken({ userId: "user-1", role: "user" }, otherKeys.privateKey);
      expect(verifyAccessToken(genuine, keys.publicKey)).to.equal(null);
    });

    it("a token without a subject", () => {
      expect(verifyAccessToken(forge({ payload: { sub: undefined } }), keys.publicKey)).to.equal(null);
    });

    it("a token with a role that does not exist", () => {
      expect(verifyAccessToken(forge({ payload: { role: "root" } }), keys.publicKey)).to.equal(null);
    });

    it("garbage", () => {
      for (const token of ["", "abc", "a.b.c", "..."]) {
        expect(verifyAccessToken(token, keys.publicKey), token).to.equal(null);
      }
    });
  });

  describe("the gateway's verifier, which remembers tokens that verified", () => {
    it("answers like a full verification, for good tokens and for every bad one", () => {
      const verifier = new AccessTokenVerifier(keys.publicKey);
      const good = forge();
      const [header, body, signature] = good.split(".");
      const claims = JSON.parse(Buffer.from(body!, "base64url").toString()) as Record<string, unknown>;
      const tampered = `${header}.${base64url({ ...claims, role: "admin" })}.${signature}`;
      for (let i = 0; i < 3; i += 1) {
        expect(verifier.verify(good)).to.deep.equal({ userId: "user-1", role: "user" });
        expect(verifier.verify(tampered)).to.equal(null);
        expect(verifier.verify(forge({ privateKey: otherKeys.privateKey }))).to.equal(null);
        expect(verifier.verify(forge({ typ: "JWT" }))).to.equal(null);
        expect(verifier.verify(forge({ payload: { exp: nowSeconds() - 1 } }))).to.equal(null);
      }
    });

    it("stops accepting a remembered token the moment it expires", async () => {
      const verifier = new AccessTokenVerifier(keys.publicKey);
      const exp = nowSeconds() + 1;
      const token = forge({ payload: { exp } });
      expect(verifier.verify(token)).to.deep.equal({ userId: "user-1", role: "user" });
      while (Date.now() < exp * 1000) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(verifier.verify(token)).to.equal(null);
    });

    it("keeps verifying correctly when it holds more tokens than its capacity", () => {
      const verifier = new AccessTokenVerifier(keys.publicKey, 2);
      const subjects = ["a", "b", "c", "d"];
      const tokens = subjects.map((sub) => forge({ payload: { sub } }));
      for (let round = 0; round < 2; round += 1) {
        tokens.forEach((token, index) =>
          expect(verifier.verify(token)).to.deep.equal({ userId: subjects[index], role: "user" }),
        );
      }
    });
  });
});

describe("signing keys (shared/auth/keys.ts)", () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "goal-keys-"));
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("generateKeyPair gives a working P-256 pair in PEM", () => {
    const pair = generateKeyPair();
    expect(pair.privateKey).to.contain("-----BEGIN PRIVATE KEY-----");
    expect(pair.publicKey).to.contain("-----BEGIN PUBLIC KEY-----");
    const token = signAccessToken({ userId: "u", role: "user" }, pair.privateKey);
    expect(verifyAccessToken(token, pair.publicKey)).to.deep.equal({ userId: "u", role: "user" });
  });

  it("without keys in the environment, generates a pair into DATA_DIR once and returns it again after", async () => {
    const config = { dataDir, jwtPrivateKey: null, jwtPublicKey: null };
    const first = await loadSigningKeys(config);
    expect(first.privateKey).to.be.a("string");
    const token = signAccessToken({ userId: "u", role: "user" }, first.privateKey ?? "");
    expect(verifyAccessToken(token, first.publicKey)).to.deep.equal({ userId: "u", role: "user" });

    const second = await loadSigningKeys(config);
    expect(second).to.deep.equal(first);
    expect(await readFile(path.join(dataDir, "keys", "jwt-public.pem"), "utf8")).to.equal(first.publicKey);
  });

  it("keeps the generated private key readable by its owner only", async function () {
    if (process.platform === "win32") this.skip();
    await loadSigningKeys({ dataDir, jwtPrivateKey: null, jwtPublicKey: null });
    const { mode } = await stat(path.join(dataDir, "keys", "jwt-private.pem"));
    expect(mode & 0o077).to.equal(0);
  });

  it("two loaders racing to create the pair (as two processes would) end up with the same one", async () => {
    const config = { dataDir, jwtPrivateKey: null, jwtPublicKey: null };
    const [a, b] = await Promise.all([loadSigningKeys(config), loadSigningKeys(config)]);
    expect(a).to.deep.equal(b);
  });

  it("uses the keys from the environment when they are given, writing nothing", async () => {
    const env = generateKeyPair();
    const loaded = await loadSigningKeys({
      dataDir,
      jwtPrivateKey: env.privateKey,
      jwtPublicKey: env.publicKey,
    });
    expect(loaded).to.deep.equal({ privateKey: env.privateKey, publicKey: env.publicKey });
    let written = true;
    await stat(path.join(dataDir, "keys")).catch(() => {
      written = false;
    });
    expect(written).to.equal(false);
  });

  it("a verifying process can run with the public key alone", async () => {
    const env = generateKeyPair();
    const loaded = await loadSigningKeys({ dataDir, jwtPrivateKey: null, jwtPublicKey: env.publicKey });
    expect(loaded).to.deep.equal({ privateKey: null, publicKey: env.publicKey });
  });

  it("recovers when a crash left only half of a generated pair in DATA_DIR", async () => {
    // A crash between the two writes leaves jwt-private.pem without jwt-public.pem.
    const keysDir = path.join(dataDir, "keys");
    await mkdir(keysDir, { recursive: true });
    await writeFile(path.join(keysDir, "jwt-private.pem"), generateKeyPair().privateKey);
    const loaded = await loadSigningKeys({ dataDir, jwtPrivateKey: null, jwtPublicKey: null });
    const token = signAccessToken({ userId: "u", role: "user" }, loaded.privateKey ?? "");
    expect(verifyAccessToken(token, loaded.publicKey)).to.deep.equal({ userId: "u", role: "user" });
  });
});
