import type { ServiceSchema } from "moleculer";
import { authRoutes } from "../../shared/api/auth.ts";
import { actionParamsSchema } from "../../shared/api/route.ts";
import { ACCESS_TOKEN_TTL_SECONDS, signAccessToken } from "../../shared/auth/tokens.ts";
import type { RequestContext } from "../../shared/context.ts";
import { type Collection, DuplicateKeyError } from "../../shared/db/index.ts";
import {
  defaultDisplayName,
  isIanaTimeZone,
  normalizeEmail,
  PROFILE_DEFAULTS,
  roleFor,
  type WeekStart,
} from "../../shared/domain/profile.ts";
import { AppError } from "../../shared/errors.ts";
import { newId } from "../../shared/ids.ts";
import { healthMixin } from "../../shared/mixins.ts";
import { loginAttempts, refreshTokenReuse, usersRegistered } from "../../shared/ops/metrics.ts";
import type { ServiceDeps } from "../../shared/runtime-types.ts";
import { LoginThrottle } from "./login-throttle.ts";
import {
  loginFailures,
  refreshFamilies,
  refreshTokenClaims,
  refreshTokens,
  type UserDoc,
  users,
} from "./model.ts";
import { hashPassword, verifyDecoy, verifyPassword } from "./passwords.ts";
import { RefreshTokenStore } from "./refresh-tokens.ts";

interface RegisterParams {
  email: string;
  password: string;
  displayName?: string;
  timezone?: string;
}
interface LoginParams {
  email: string;
  password: string;
}
interface RefreshParams {
  refreshToken: string;
}
interface ProfilePatch {
  displayName?: string;
  timezone?: string;
  dayStartHour?: number;
  weekStart?: WeekStart;
}
interface PasswordChange {
  currentPassword: string;
  newPassword: string;
}

export interface UserView {
  id: string;
  email: string;
  displayName: string;
  role: UserDoc["role"];
  timezone: string;
  dayStartHour: number;
  weekStart: WeekStart;
  onboardingCompletedAt: string | null;
  createdAt: string;
}

export function toUserView(user: UserDoc): UserView {
  return {
    id: user._id,
    email: user.email,
    displayName: user.displayName,
    role: user.role,
    timezone: user.timezone,
    dayStartHour: user.dayStartHour,
    weekStart: user.weekStart,
    onboardingCompletedAt: user.onboardingCompletedAt?.toISOString() ?? null,
    createdAt: user.createdAt.toISOString(),
  };
}

function assertTimeZone(timezone: string | undefined): void {
  if (timezone !== undefined && !isIanaTimeZone(timezone)) {
    throw new AppError("VALIDATION_ERROR", undefined, {
      details: [{ path: "/timezone", message: "must be an IANA time zone name such as Europe/Paris" }],
    });
  }
}

const SWEEP_INTERVAL_MS = 60_000;

/** Accounts, credentials and sessions. Owns `users`, `refresh_tokens` and `login_failures`. */
export default function authService(deps: ServiceDeps): ServiceSchema {
  const { config, storage, bus, keys } = deps;
  let userStore: Collection<UserDoc>;
  let tokens: RefreshTokenStore;
  let throttle: LoginThrottle;
  let sweeper: NodeJS.Timeout | undefined;

  const signingKey = (): string => {
    if (!keys.privateKey) throw new Error("auth needs JWT_PRIVATE_KEY");
    return keys.privateKey;
  };

  async function session(user: UserDoc, familyId?: string) {
    return {
      user: toUserView(user),
      accessToken: signAccessToken({ userId: user._id, role: user.role }, signingKey()),
      refreshToken: await tokens.issue(user._id, familyId),
      expiresIn: ACCESS_TOKEN_TTL_SECONDS,
    };
  }

  async function currentUser(ctx: RequestContext<unknown>): Promise<UserDoc> {
    const id = ctx.meta.user?.id;
    const user = id ? await userStore.findOne({ _id: id, deletedAt: null }) : null;
    if (!user) throw new AppError("UNAUTHORIZED", "The account no longer exists");
    return user;
  }

  /** Publishes `user.deleted` for every account marked deleted, then removes what auth owns of it. */
  async function finishDeletions(): Promise<void> {
    const pending = await userStore.find({ deletedAt: { $ne: null } }, { limit: 100 });
    for (const user of pending) {
      await bus.publish(
        "user.deleted",
        { userId: user._id, deletedAt: user.deletedAt!.toISOString() },
        user._id,
      );
      await tokens.deleteUser(user._id);
      await userStore.deleteOne({ _id: user._id });
    }
  }

  async function housekeeping(): Promise<void> {
    await finishDeletions();
    await tokens.purgeExpired();
    await throttle.purgeExpired();
  }

  return {
    name: "auth",
    mixins: [healthMixin({ database: () => storage.ping(), bus: () => bus.ping() })],

    actions: {
      register: {
        params: actionParamsSchema(authRoutes.register),
        async handler(ctx: RequestContext<RegisterParams>) {
          const { password, displayName, timezone } = ctx.params;
          assertTimeZone(timezone);
          const email = normalizeEmail(ctx.params.email);
          const now = new Date();
          const user: UserDoc = {
            _id: newId(now.getTime()),
            email,
            passwordHash: await hashPassword(password),
            displayName: displayName ?? defaultDisplayName(email),
            role: roleFor(email, config.adminEmails),
            timezone: timezone ?? PROFILE_DEFAULTS.timezone,
            dayStartHour: PROFILE_DEFAULTS.dayStartHour,
            weekStart: PROFILE_DEFAULTS.weekStart,
            onboardingCompletedAt: null,
            createdAt: now,
            updatedAt: now,
            deletedAt: null,
          };
          try {
            await userStore.insert(user);
          } catch (error) {
            if (error instanceof DuplicateKeyError) throw new AppError("EMAIL_TAKEN");
            throw error;
          }
          usersRegistered.inc();
          ctx.meta.$statusCode = 201;
          ctx.meta.$location = "/api/v1/me";
          return session(user);
        },
      },

      login: {
        params: actionParamsSchema(authRoutes.login),
        async handler(ctx: RequestContext<LoginParams>) {
          const email = normalizeEmail(ctx.params.email);
          const address = ctx.meta.clientIp ?? "unknown";
          const wait = await throttle.blockedFor(email, address);
          if (wait !== null) {
            loginAttempts.inc({ outcome: "throttled" });
            throw new AppError("RATE_LIMITED", "Too many failed logins; retry later", {
              retryAfterSeconds: wait,
            });
          }
          const user = await userStore.findOne({ email, deletedAt: null });
          const valid = user
            ? await verifyPassword(user.passwordHash, ctx.params.password)
            : await verifyDecoy(ctx.params.password);
          if (!user || !valid) {
            await throttle.recordFailure(email, address);
            loginAttempts.inc({ outcome: "failure" });
            throw new AppError("UNAUTHORIZED", "Email or password is incorrect");
          }
          loginAttempts.inc({ outcome: "success" });
          return session(user);
        },
      },

      refresh: {
        params: actionParamsSchema(authRoutes.refresh),
        async handler(ctx: RequestContext<RefreshParams>) {
          const rotation = await tokens.consume(ctx.params.refreshToken);
          if (!rotation.ok) {
            if (rotation.reused) refreshTokenReuse.inc();
            throw new AppError("UNAUTHORIZED", "The refresh token is invalid, expired or already used");
          }
          const user = await userStore.findOne({ _id: rotation.userId, deletedAt: null });
          if (!user) throw new AppError("UNAUTHORIZED", "The account no longer exists");
          return session(user, rotation.familyId);
        },
      },

      logout: {
        params: actionParamsSchema(authRoutes.logout),
        async handler(ctx: RequestContext<RefreshParams>) {
          const owner = await tokens.findOwner(ctx.params.refreshToken);
          // Someone else's token is left alone, and the answer does not tell whether it exists.
          if (owner && owner.userId === ctx.meta.user?.id)
            await tokens.revokeFamily(owner.familyId, owner.userId);
          ctx.meta.$statusCode = 204;
          return null;
        },
      },

      me: {
        params: actionParamsSchema(authRoutes.me),
        async handler(ctx: RequestContext) {
          return toUserView(await currentUser(ctx));
        },
      },

      updateProfile: {
        params: actionParamsSchema(authRoutes.updateMe),
        async handler(ctx: RequestContext<ProfilePatch>) {
          assertTimeZone(ctx.params.timezone);
          const user = await currentUser(ctx);
          const updated = await userStore.findOneAndUpdate(
            { _id: user._id, deletedAt: null },
            { $set: { ...ctx.params, updatedAt: new Date() } },
          );
          if (!updated) throw new AppError("UNAUTHORIZED", "The account no longer exists");
          return toUserView(updated);
        },
      },

      completeOnboarding: {
        params: actionParamsSchema(authRoutes.completeOnboarding),
        async handler(ctx: RequestContext) {
          const user = await currentUser(ctx);
          const now = new Date();
          await userStore.updateOne(
            { _id: user._id, onboardingCompletedAt: null },
            { $set: { onboardingCompletedAt: now, updatedAt: now } },
          );
          return toUserView(await currentUser(ctx));
        },
      },

      changePassword: {
        params: actionParamsSchema(authRoutes.changePassword),
        async handler(ctx: RequestContext<PasswordChange>) {
          const user = await currentUser(ctx);
          if (!(await verifyPassword(user.passwordHash, ctx.params.currentPassword))) {
            throw new AppError("UNAUTHORIZED", "The current password is incorrect");
          }
          const now = new Date();
          await userStore.updateOne(
            { _id: user._id },
            { $set: { passwordHash: await hashPassword(ctx.params.newPassword), updatedAt: now } },
          );
          await tokens.revokeUser(user._id, now);
          ctx.meta.$statusCode = 204;
          return null;
        },
      },

      /** A user's calendar settings and contact, for the services that compute local dates or write to them. */
      settings: {
        visibility: "public",
        params: {
          type: "object",
          additionalProperties: false,
          required: ["userId"],
          properties: { userId: { type: "string", minLength: 1, maxLength: 64 } },
        },
        async handler(ctx: RequestContext<{ userId: string }>) {
          const user = await userStore.findOne({ _id: ctx.params.userId, deletedAt: null });
          if (!user) throw new AppError("UNAUTHORIZED", "The account no longer exists");
          return {
            timezone: user.timezone,
            dayStartHour: user.dayStartHour,
            weekStart: user.weekStart,
            email: user.email,
            displayName: user.displayName,
          };
        },
      },

      /** Users page by page (id order), for scheduled jobs that work per user and zone. */
      listUsers: {
        visibility: "public",
        params: {
          type: "object",
          additionalProperties: false,
          required: ["limit"],
          properties: {
            afterId: { anyOf: [{ type: "string", maxLength: 64 }, { type: "null" }] },
            limit: { type: "integer", minimum: 1, maximum: 1000 },
          },
        },
        async handler(ctx: RequestContext<{ afterId?: string | null; limit: number }>) {
          const filter: Record<string, unknown> = { deletedAt: null };
          if (ctx.params.afterId) filter._id = { $gt: ctx.params.afterId };
          const page = await userStore.find(filter, { sort: { _id: 1 }, limit: ctx.params.limit });
          return page.map((user) => ({
            id: user._id,
            email: user.email,
            displayName: user.displayName,
            timezone: user.timezone,
            dayStartHour: user.dayStartHour,
            weekStart: user.weekStart,
          }));
        },
      },

      /** Finishes interrupted deletions and removes expired tokens and counters; runs every minute. */
      sweep: {
        visibility: "public",
        async handler() {
          await housekeeping();
          return { ok: true };
        },
      },

      deleteAccount: {
        params: actionParamsSchema(authRoutes.deleteMe),
        async handler(ctx: RequestContext) {
          const user = await currentUser(ctx);
          await userStore.updateOne({ _id: user._id }, { $set: { deletedAt: new Date() } });
          await finishDeletions();
          ctx.meta.$statusCode = 204;
          return null;
        },
      },
    },

    async started() {
      userStore = await storage.open(users);
      tokens = new RefreshTokenStore(
        await storage.open(refreshTokens),
        await storage.open(refreshTokenClaims),
        await storage.open(refreshFamilies),
      );
      throttle = new LoginThrottle(await storage.open(loginFailures));
      await housekeeping();
      sweeper = setInterval(() => {
        housekeeping().catch((error: unknown) => this.logger.warn("auth housekeeping failed", String(error)));
      }, SWEEP_INTERVAL_MS);
      sweeper.unref();
    },

    async stopped() {
      clearInterval(sweeper);
    },
  };
}
