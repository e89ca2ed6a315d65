import { createHash, randomBytes } from "node:crypto";
import { type Collection, DuplicateKeyError } from "../../shared/db/index.ts";
import { newId } from "../../shared/ids.ts";
import type { RefreshFamilyDoc, RefreshTokenClaimDoc, RefreshTokenDoc } from "./model.ts";

export const REFRESH_TOKEN_TTL_MS = 30 * 24 * 60 * 60 * 1000;

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export type RotationResult = { ok: true; userId: string; familyId: string } | { ok: false; reused: boolean };

/** Refresh tokens: opaque, stored hashed, rotated on every use, a reused one revokes its family. */
export class RefreshTokenStore {
  private readonly tokens: Collection<RefreshTokenDoc>;
  private readonly claims: Collection<RefreshTokenClaimDoc>;
  private readonly families: Collection<RefreshFamilyDoc>;

  constructor(
    tokens: Collection<RefreshTokenDoc>,
    claims: Collection<RefreshTokenClaimDoc>,
    families: Collection<RefreshFamilyDoc>,
  ) {
    this.tokens = tokens;
    this.claims = claims;
    this.families = families;
  }

  /** A token of a new family (a login) when no family is given, else the next token of that family. */
  async issue(userId: string, familyId?: string, now = new Date()): Promise<string> {
    if (familyId === undefined) {
      familyId = newId(now.getTime());
      await this.families.insert({ _id: familyId, userId, revokedAt: null });
    }
    const token = randomBytes(32).toString("base64url");
    await this.tokens.insert({
      _id: newId(now.getTime()),
      tokenHash: hashToken(token),
      familyId,
      userId,
      createdAt: now,
      expiresAt: new Date(now.getTime() + REFRESH_TOKEN_TTL_MS),
      usedAt: null,
      revokedAt: null,
    });
    return token;
  }

  /**
   * Uses the token up. Only one caller can insert its claim, so of two racing refreshes with one token
   * the second counts as reuse and revokes the family.
   */
  async consume(token: string, now = new Date()): Promise<RotationResult> {
    const stored = await this.tokens.findOne({ tokenHash: hashToken(token) });
    if (!stored || stored.expiresAt.getTime() <= now.getTime()) return { ok: false, reused: false };
    const family = await this.families.findOne({ _id: stored.familyId });
    const familyRevoked = family !== null && family.revokedAt !== null;
    const usable = stored.revokedAt === null && stored.usedAt === null && !familyRevoked;
    if (usable && (await this.claim(stored._id, now))) {
      await this.tokens.updateOne({ _id: stored._id }, { $set: { usedAt: now } });
      return { ok: true, userId: stored.userId, familyId: stored.familyId };
    }
    await this.revokeFamily(stored.familyId, stored.userId, now);
    return { ok: false, reused: stored.revokedAt === null };
  }

  private async claim(tokenId: string, now: Date): Promise<boolean> {
    try {
      await this.claims.insert({ _id: tokenId, claimedAt: now });
      return true;
    } catch (error) {
      if (error instanceof DuplicateKeyError) return false;
      throw error;
    }
  }

  async findOwner(token: string): Promise<{ userId: string; familyId: string } | null> {
    const stored = await this.tokens.findOne({ tokenHash: hashToken(token) });
    return stored ? { userId: stored.userId, familyId: stored.familyId } : null;
  }

  async revokeFamily(familyId: string, userId: string, now = new Date()): Promise<void> {
    await this.families.updateOne({ _id: familyId }, { $set: { userId, revokedAt: now } }, { upsert: true });
    await this.tokens.updateMany({ familyId, revokedAt: null }, { $set: { revokedAt: now } });
  }

  async revokeUser(userId: string, now = new Date()): Promise<void> {
    await this.families.updateMany({ userId, revokedAt: null }, { $set: { revokedAt: now } });
    await this.tokens.updateMany({ userId, revokedAt: null }, { $set: { revokedAt: now } });
  }

  async deleteUser(userId: string): Promise<void> {
    await this.families.deleteMany({ userId });
    await this.tokens.deleteMany({ userId });
  }

  /** Expired tokens are useless; a job removes them since not every backend has TTL indexes. */
  async purgeExpired(now = new Date()): Promise<number> {
    const longAgo = new Date(now.getTime() - REFRESH_TOKEN_TTL_MS);
    await this.claims.deleteMany({ claimedAt: { $lt: longAgo } });
    // Every token of a family revoked that long ago has expired, those issued after it included.
    await this.families.deleteMany({ revokedAt: { $lt: longAgo } });
    return this.tokens.deleteMany({ expiresAt: { $lt: now } });
  }
}
