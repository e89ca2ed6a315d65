import { expect } from "chai";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Collection } from "../../shared/db/index.ts";
import { NedbStorage } from "../../shared/db/nedb.ts";
import { newId } from "../../shared/ids.ts";
import {
  LoginThrottle,
  MAX_FAILURES_PER_ADDRESS,
  MAX_FAILURES_PER_EMAIL,
} from "../../services/auth/login-throttle.ts";
import {
  type LoginFailureDoc,
  loginFailures,
  type RefreshTokenDoc,
  refreshFamilies,
  refreshTokenClaims,
  refreshTokens,
} from "../../services/auth/model.ts";
import { hashPassword, verifyDecoy, verifyPassword } from "../../services/auth/passwords.ts";
import { hashToken, REFRESH_TOKEN_TTL_MS, RefreshTokenStore } from "../../services/auth/refresh-tokens.ts";

const DAY = 24 * 60 * 60 * 1000;
const FIFTEEN_MINUTES = 15 * 60 * 1000;

describe("auth stores on a real NeDB collection", () => {
  let dataDir: string;
  let storage: NedbStorage;

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "goal-auth-"));
    storage = new NedbStorage(dataDir);
  });

  afterEach(async () => {
    await storage.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  describe("refresh tokens (services/auth/refresh-tokens.ts)", () => {
    let collection: Collection<RefreshTokenDoc>;
    let store: RefreshTokenStore;

    beforeEach(async () => {
      collection = await storage.open(refreshTokens);
      store = new RefreshTokenStore(
        collection,
        await storage.open(refreshTokenClaims),
        await storage.open(refreshFamilies),
      );
    });

    it("issues an opaque, URL-safe token of 256 random bits, different every time", async () => {
      const a = await store.issue("user-1");
      const b = await store.issue("user-1");
      expect(a).to.match(/^[A-Za-z0-9_-]{43}$/);
      expect(a.split(".")).to.have.length(1); // not a JWT
      expect(a).to.not.equal(b);
    });

    it("stores the token's SHA-256 hash, never the token itself, valid for 30 days", async () => {
      const now = new Date("2026-11-22T08:00:00.000Z");
      const token = await store.issue("user-1", "family-1", now);
      const docs = await collection.find({});
      expect(docs).to.have.length(1);
      const doc = docs[0];
      expect(doc?.tokenHash).to.equal(createHash("sha256").update(token).digest("hex"));
      expect(doc?.tokenHash).to.equal(hashToken(token));
      expect(doc).to.deep.include({ userId: "user-1", familyId: "family-1", usedAt: null, revokedAt: null });
      expect(doc?.expiresAt.getTime()).to.equal(now.getTime() + REFRESH_TOKEN_TTL_MS);
      expect(REFRESH_TOKEN_TTL_MS).to.equal(30 * DAY);
      expect(JSON.stringify(docs)).to.not.contain(token);
      const onDisk = await readFile(path.join(dataDir, "refresh_tokens.db"), "utf8");
      expect(onDisk).to.contain(hashToken(token));
      expect(onDisk).to.not.contain(token);
    });

    it("a token can be consumed once, giving its user and family", async () => {
      const token = await store.issue("user-1", "family-1");
      expect(await store.consume(token)).to.deep.equal({ ok: true, userId: "user-1", familyId: "family-1" });
    });

    it("a second use of the same token is reuse, and revokes the whole family", async () => {
      const first = await store.issue("user-1", "family-1");
      expect((await store.consume(first)).ok).to.equal(true);
      // The legitimate client rotated: it now holds the next token of the family.
      const next = await store.issue("user-1", "family-1");
      // Someone replays the used one.
      expect(await store.consume(first)).to.deep.equal({ ok: false, reused: true });
      // The family is dead: the newer token no longer works either.
      expect((await store.consume(next)).ok).to.equal(false);
      const family = await collection.find({ familyId: "family-1" });
      for (const doc of family) expect(doc.revokedAt).to.be.instanceOf(Date);
    });

    it("a family revoked for reuse stays revoked: a token the racing winner issues afterwards does not work", async () => {
      // Two clients present the same token at once (say, a thief and the owner): one wins the claim,
      // the other is told "reuse" and revokes the family, then the winner finishes its rotation.
      const first = await store.issue("user-1", "family-1");
      const results = await Promise.all([store.consume(first), store.consume(first)]);
      expect(results.filter((result) => !result.ok)).to.deep.equal([{ ok: false, reused: true }]);
      const winnersNext = await store.issue("user-1", "family-1");
      expect(await store.consume(winnersNext)).to.deep.include({ ok: false });
    });

    it("reuse in one family leaves the user's other sessions alone", async () => {
      const laptop = await store.issue("user-1", "laptop");
      const phone = await store.issue("user-1", "phone");
      await store.consume(laptop);
      await store.consume(laptop);
      expect((await store.consume(phone)).ok).to.equal(true);
    });

    it("of two racing uses of one token exactly one wins, and the other counts as reuse", async () => {
      const token = await store.issue("user-1", "family-1");
      const results = await Promise.all([store.consume(token), store.consume(token)]);
      expect(results.filter((result) => result.ok)).to.have.length(1);
      expect(results.filter((result) => !result.ok)).to.deep.equal([{ ok: false, reused: true }]);
    });

    it("refuses a token it never issued, without calling it reuse", async () => {
      await store.issue("user-1");
      expect(await store.consume("never-issued")).to.deep.equal({ ok: false, reused: false });
    });

    it("refuses an expired token (30 days after issue), but not one about to expire", async () => {
      const issuedAt = new Date("2026-01-01T00:00:00.000Z");
      const expired = await store.issue("user-1", "f1", issuedAt);
      const fresh = await store.issue("user-1", "f2", issuedAt);
      const expiry = issuedAt.getTime() + REFRESH_TOKEN_TTL_MS;
      expect(await store.consume(expired, new Date(expiry))).to.deep.equal({ ok: false, reused: false });
      expect((await store.consume(fresh, new Date(expiry - 1))).ok).to.equal(true);
    });

    it("refuses a token whose family was revoked (logout), without calling it reuse", async () => {
      const token = await store.issue("user-1", "family-1");
      await store.revokeFamily("family-1", "user-1");
      expect(await store.consume(token)).to.deep.equal({ ok: false, reused: false });
    });

    it("revokeUser revokes every token of that user, and only of that user", async () => {
      const a = await store.issue("user-1", "f1");
      const b = await store.issue("user-1", "f2");
      const other = await store.issue("user-2", "f3");
      await store.revokeUser("user-1");
      expect((await store.consume(a)).ok).to.equal(false);
      expect((await store.consume(b)).ok).to.equal(false);
      expect((await store.consume(other)).ok).to.equal(true);
    });

    it("findOwner tells whose token it is, and deleteUser removes them all", async () => {
      const token = await store.issue("user-1", "family-1");
      await store.issue("user-2", "family-2");
      expect(await store.findOwner(token)).to.deep.equal({ userId: "user-1", familyId: "family-1" });
      expect(await store.findOwner("unknown")).to.equal(null);
      await store.deleteUser("user-1");
      expect(await store.findOwner(token)).to.equal(null);
      expect(await collection.count({})).to.equal(1);
    });

    it("purgeExpired removes expired tokens only", async () => {
      const longAgo = new Date(Date.now() - 31 * DAY);
      await store.issue("user-1", "old", longAgo);
      const current = await store.issue("user-1", "new");
      expect(await store.purgeExpired()).to.equal(1);
      expect((await store.consume(current)).ok).to.equal(true);
    });
  });

  describe("login throttle (services/auth/login-throttle.ts)", () => {
    let collection: Collection<LoginFailureDoc>;
    let throttle: LoginThrottle;
    const windowStart = Math.floor(Date.UTC(2026, 10, 22, 8) / FIFTEEN_MINUTES) * FIFTEEN_MINUTES;
    const fiveMinutesIn = windowStart + 5 * 60 * 1000;

    beforeEach(async () => {
      collection = await storage.open(loginFailures);
      throttle = new LoginThrottle(collection);
    });

    async function fail(times: number, email: string, address: string, now: number): Promise<void> {
      for (let i = 0; i < times; i += 1) await throttle.recordFailure(email, address, now);
    }

    it("does not block anyone who has not failed", async () => {
      expect(await throttle.blockedFor("ann@example.com", "203.0.113.1", fiveMinutesIn)).to.equal(null);
    });

    it(`blocks an email after ${MAX_FAILURES_PER_EMAIL} failures in 15 minutes, from any address`, async () => {
      expect(MAX_FAILURES_PER_EMAIL).to.equal(10);
      // Spread over addresses, so that only the per-email count can be what blocks.
      for (let i = 0; i < 9; i += 1)
        await throttle.recordFailure("ann@example.com", `198.51.100.${i}`, fiveMinutesIn);
      expect(await throttle.blockedFor("ann@example.com", "203.0.113.1", fiveMinutesIn)).to.equal(null);
      await throttle.recordFailure("ann@example.com", "198.51.100.9", fiveMinutesIn);
      const wait = await throttle.blockedFor("ann@example.com", "203.0.113.1", fiveMinutesIn);
      expect(wait).to.equal(10 * 60); // seconds until the 15-minute window ends
    });

    it("blocking one email does not block another", async () => {
      await fail(10, "ann@example.com", "203.0.113.1", fiveMinutesIn);
      expect(await throttle.blockedFor("bob@example.com", "203.0.113.2", fiveMinutesIn)).to.equal(null);
    });

    it(`blocks an address after ${MAX_FAILURES_PER_ADDRESS} failures in 15 minutes, whatever the email`, async () => {
      expect(MAX_FAILURES_PER_ADDRESS).to.equal(100);
      // Spread over emails, so that only the per-address count can be what blocks.
      for (let i = 0; i < 99; i += 1)
        await throttle.recordFailure(`user${i}@example.com`, "203.0.113.7", fiveMinutesIn);
      expect(await throttle.blockedFor("new@example.com", "203.0.113.7", fiveMinutesIn)).to.equal(null);
      await throttle.recordFailure("user99@example.com", "203.0.113.7", fiveMinutesIn);
      expect(await throttle.blockedFor("new@example.com", "203.0.113.7", fiveMinutesIn)).to.equal(600);
      expect(await throttle.blockedFor("new@example.com", "203.0.113.8", fiveMinutesIn)).to.equal(null);
    });

    it("answers a Retry-After in whole seconds, at least 1, ending with the window", async () => {
      await fail(10, "ann@example.com", "203.0.113.1", windowStart);
      expect(await throttle.blockedFor("ann@example.com", "x", windowStart)).to.equal(15 * 60);
      expect(await throttle.blockedFor("ann@example.com", "x", windowStart + FIFTEEN_MINUTES - 1)).to.equal(
        1,
      );
      expect(
        await throttle.blockedFor("ann@example.com", "x", windowStart + FIFTEEN_MINUTES - 1500),
      ).to.equal(2);
    });

    it("unblocks in the next 15-minute window", async () => {
      await fail(10, "ann@example.com", "203.0.113.1", fiveMinutesIn);
      expect(await throttle.blockedFor("ann@example.com", "203.0.113.1", fiveMinutesIn)).to.not.equal(null);
      expect(
        await throttle.blockedFor("ann@example.com", "203.0.113.1", windowStart + FIFTEEN_MINUTES),
      ).to.equal(null);
    });

    it("keeps counting across calls made at the same moment", async () => {
      await Promise.all(
        Array.from({ length: 10 }, () =>
          throttle.recordFailure("ann@example.com", "203.0.113.1", fiveMinutesIn),
        ),
      );
      expect(await throttle.blockedFor("ann@example.com", "203.0.113.1", fiveMinutesIn)).to.not.equal(null);
    });

    it("purgeExpired removes the counters of windows that have ended", async () => {
      await fail(1, "ann@example.com", "203.0.113.1", windowStart);
      await fail(1, "bob@example.com", "203.0.113.2", windowStart + FIFTEEN_MINUTES);
      expect(await collection.count({})).to.equal(4);
      expect(await throttle.purgeExpired(new Date(windowStart + FIFTEEN_MINUTES + 1))).to.equal(2);
      expect(await collection.count({})).to.equal(2);
    });
  });
});

describe("passwords (services/auth/passwords.ts)", () => {
  it("hashes with argon2id, keeping the parameters in the hash", async () => {
    const hash = await hashPassword("correct horse battery staple");
    expect(hash.startsWith("$argon2id$")).to.equal(true);
    expect(hash).to.contain("m=19456,t=2,p=1");
    expect(hash).to.not.contain("correct horse");
  });

  it("verifies the right password and refuses a wrong one", async () => {
    const hash = await hashPassword("correct horse battery staple");
    expect(await verifyPassword(hash, "correct horse battery staple")).to.equal(true);
    expect(await verifyPassword(hash, "Correct horse battery staple")).to.equal(false);
    expect(await verifyPassword(hash, "")).to.equal(false);
  });

  it("salts: two hashes of the same password differ, and both verify", async () => {
    const [a, b] = await Promise.all([hashPassword("same password"), hashPassword("same password")]);
    expect(a).to.not.equal(b);
    expect(await verifyPassword(a, "same password")).to.equal(true);
    expect(await verifyPassword(b, "same password")).to.equal(true);
  });

  it("answers false, not an exception, for a hash that is not a hash", async () => {
    expect(await verifyPassword("not-a-hash", "whatever")).to.equal(false);
    expect(await verifyPassword("", "whatever")).to.equal(false);
  });

  it("the decoy check (for unknown emails) always answers false", async () => {
    expect(await verifyDecoy("decoy-password-never-matches")).to.equal(false);
    expect(await verifyDecoy("anything")).to.equal(false);
  });
});

describe("ids (shared/ids.ts)", () => {
  it("are opaque, URL-safe and 32 hex characters", () => {
    expect(newId()).to.match(/^[0-9a-f]{32}$/);
  });

  it("sort by creation time", () => {
    const ids = [newId(1000), newId(2000), newId(1_700_000_000_000), newId(1_700_000_000_001)];
    expect([...ids].sort()).to.deep.equal(ids);
  });

  it("differ even when made in the same millisecond", () => {
    const now = Date.now();
    const ids = new Set(Array.from({ length: 1000 }, () => newId(now)));
    expect(ids.size).to.equal(1000);
  });
});
