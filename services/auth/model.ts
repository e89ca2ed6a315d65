import type { Role } from "../../shared/auth/tokens.ts";
import { defineModel } from "../../shared/db/index.ts";
import type { WeekStart } from "../../shared/domain/profile.ts";

export interface UserDoc {
  _id: string;
  email: string;
  passwordHash: string;
  displayName: string;
  role: Role;
  timezone: string;
  dayStartHour: number;
  weekStart: WeekStart;
  onboardingCompletedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  /** Set first when an account is deleted, so that a crash before `user.deleted` is published is swept up. */
  deletedAt: Date | null;
}

export const users = defineModel<UserDoc>({
  name: "users",
  fields: {
    email: { type: String, required: true },
    passwordHash: { type: String, required: true },
    displayName: { type: String, required: true },
    role: { type: String, required: true },
    timezone: { type: String, required: true },
    dayStartHour: { type: Number, required: true },
    weekStart: { type: String, required: true },
    onboardingCompletedAt: { type: Date, default: null },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    deletedAt: { type: Date, default: null },
  },
  indexes: [{ fields: { email: 1 }, unique: true }, { fields: { deletedAt: 1 } }],
});

export interface RefreshTokenDoc {
  _id: string;
  /** SHA-256 of the opaque token: the token itself is never stored. */
  tokenHash: string;
  /** Every token rotated from one login shares a family; reuse of any of them revokes it whole. */
  familyId: string;
  userId: string;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
  revokedAt: Date | null;
}

export const refreshTokens = defineModel<RefreshTokenDoc>({
  name: "refresh_tokens",
  fields: {
    tokenHash: { type: String, required: true },
    familyId: { type: String, required: true },
    userId: { type: String, required: true },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    usedAt: { type: Date, default: null },
    revokedAt: { type: Date, default: null },
  },
  indexes: [
    { fields: { tokenHash: 1 }, unique: true },
    { fields: { familyId: 1 } },
    { fields: { userId: 1 } },
    { fields: { expiresAt: 1 } },
  ],
});

/**
 * One document per refresh token that was used. Inserting it is the atomic "use once": a unique _id
 * holds on every backend, where a conditional update does not (FerretDB v1 filters in Go, then writes).
 */
export interface RefreshTokenClaimDoc {
  /** The refresh token's own id. */
  _id: string;
  claimedAt: Date;
}

export const refreshTokenClaims = defineModel<RefreshTokenClaimDoc>({
  name: "refresh_token_claims",
  fields: { claimedAt: { type: Date, required: true } },
  indexes: [{ fields: { claimedAt: 1 } }],
});

/**
 * A login's chain of rotated refresh tokens. Revocation is recorded here, on the family, so that a
 * token issued after the revocation (by the winner of a refresh race) is refused too.
 */
export interface RefreshFamilyDoc {
  _id: string;
  userId: string;
  revokedAt: Date | null;
}

export const refreshFamilies = defineModel<RefreshFamilyDoc>({
  name: "refresh_families",
  fields: { userId: { type: String, required: true }, revokedAt: { type: Date, default: null } },
  indexes: [{ fields: { userId: 1 } }, { fields: { revokedAt: 1 } }],
});

export interface LoginFailureDoc {
  /** `email:<address>:<window>` or `ip:<address>:<window>`. */
  _id: string;
  count: number;
  expiresAt: Date;
}

export const loginFailures = defineModel<LoginFailureDoc>({
  name: "login_failures",
  fields: {
    count: { type: Number, required: true },
    expiresAt: { type: Date, required: true },
  },
  indexes: [{ fields: { expiresAt: 1 } }],
});
