import type { JsonSchema } from "../validation.ts";
import { idSchema, instantSchema } from "./common.ts";
import type { RouteSpec } from "./route.ts";

const emailSchema = { type: "string", format: "email", maxLength: 254 } as const;
const passwordSchema = { type: "string", minLength: 8, maxLength: 128 } as const;
const timezoneSchema = {
  type: "string",
  minLength: 1,
  maxLength: 64,
  description: "An IANA time zone name such as Europe/Paris",
} as const;
const displayNameSchema = { type: "string", minLength: 1, maxLength: 80 } as const;
const refreshTokenSchema = { type: "string", minLength: 1, maxLength: 512 } as const;

export const userSchema: JsonSchema = {
  type: "object",
  additionalProperties: false,
  required: [
    "id",
    "email",
    "displayName",
    "role",
    "timezone",
    "dayStartHour",
    "weekStart",
    "onboardingCompletedAt",
    "createdAt",
  ],
  properties: {
    id: idSchema,
    email: { type: "string" },
    displayName: { type: "string" },
    role: { enum: ["user", "admin"] },
    timezone: { type: "string" },
    dayStartHour: { type: "integer", minimum: 0, maximum: 23 },
    weekStart: { enum: ["monday", "sunday"] },
    onboardingCompletedAt: { anyOf: [instantSchema, { type: "null" }] },
    createdAt: instantSchema,
  },
};

export const authResultSchema: JsonSchema = {
  type: "object",
  additionalProperties: false,
  required: ["user", "accessToken", "refreshToken", "expiresIn"],
  properties: {
    user: userSchema,
    accessToken: { type: "string", description: "A JWT (ES256) to send as `Authorization: Bearer …`" },
    refreshToken: { type: "string", description: "Opaque; works once (rotation), valid 30 days" },
    expiresIn: { type: "integer", description: "Seconds until the access token expires" },
  },
};

export const registerBody: JsonSchema = {
  type: "object",
  additionalProperties: false,
  required: ["email", "password"],
  properties: {
    email: emailSchema,
    password: passwordSchema,
    displayName: displayNameSchema,
    timezone: timezoneSchema,
  },
};

export const loginBody: JsonSchema = {
  type: "object",
  additionalProperties: false,
  required: ["email", "password"],
  properties: {
    email: { type: "string", minLength: 1, maxLength: 254 },
    password: { type: "string", minLength: 1, maxLength: 128 },
  },
};

export const refreshBody: JsonSchema = {
  type: "object",
  additionalProperties: false,
  required: ["refreshToken"],
  properties: { refreshToken: refreshTokenSchema },
};

export const profilePatchBody: JsonSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    displayName: displayNameSchema,
    timezone: timezoneSchema,
    dayStartHour: { type: "integer", minimum: 0, maximum: 23 },
    weekStart: { enum: ["monday", "sunday"] },
  },
};

export const passwordChangeBody: JsonSchema = {
  type: "object",
  additionalProperties: false,
  required: ["currentPassword", "newPassword"],
  properties: {
    currentPassword: { type: "string", minLength: 1, maxLength: 128 },
    newPassword: passwordSchema,
  },
};

const tag = "Auth and profile";

export const authRoutes = {
  register: {
    operationId: "register",
    method: "POST",
    path: "/auth/register",
    action: "auth.register",
    access: "public",
    tag,
    summary: "Create an account and sign in",
    description: "Emails are stored in lower case. Emails listed in ADMIN_EMAILS register as admins.",
    body: registerBody,
    status: 201,
    response: authResultSchema,
    errors: ["EMAIL_TAKEN"],
  },
  login: {
    operationId: "login",
    method: "POST",
    path: "/auth/login",
    action: "auth.login",
    access: "public",
    tag,
    summary: "Sign in with email and password",
    description:
      "Unknown email and wrong password both answer 401. Ten failures per email or 100 per client address within 15 minutes answer 429 with Retry-After.",
    body: loginBody,
    status: 200,
    response: authResultSchema,
    errors: ["UNAUTHORIZED"],
  },
  refresh: {
    operationId: "refresh",
    method: "POST",
    path: "/auth/refresh",
    action: "auth.refresh",
    access: "public",
    tag,
    summary: "Trade a refresh token for a new token pair",
    description:
      "Each refresh token works once. Presenting a used one answers 401 and revokes every token of its family.",
    body: refreshBody,
    status: 200,
    response: authResultSchema,
    errors: ["UNAUTHORIZED"],
  },
  logout: {
    operationId: "logout",
    method: "POST",
    path: "/auth/logout",
    action: "auth.logout",
    access: "user",
    tag,
    summary: "Revoke a refresh token and its whole family",
    body: refreshBody,
    status: 204,
    errors: [],
  },
  me: {
    operationId: "getMe",
    method: "GET",
    path: "/me",
    action: "auth.me",
    access: "user",
    tag,
    summary: "The signed-in user's profile",
    status: 200,
    response: userSchema,
    errors: [],
  },
  updateMe: {
    operationId: "updateMe",
    method: "PATCH",
    path: "/me",
    action: "auth.updateProfile",
    access: "user",
    tag,
    summary: "Update display name, time zone, day start hour or week start",
    description:
      "Changing the time zone or day start does not move activities already logged: their local dates are fixed when written.",
    body: profilePatchBody,
    status: 200,
    response: userSchema,
    errors: [],
  },
  completeOnboarding: {
    operationId: "completeOnboarding",
    method: "POST",
    path: "/me/onboarding/complete",
    action: "auth.completeOnboarding",
    access: "user",
    tag,
    summary: "Mark onboarding as done (idempotent: the first time is kept)",
    status: 200,
    response: userSchema,
    errors: [],
  },
  changePassword: {
    operationId: "changePassword",
    method: "POST",
    path: "/me/password",
    action: "auth.changePassword",
    access: "user",
    tag,
    summary: "Change the password; every refresh token of the user is revoked",
    description:
      "A wrong current password answers 401. Access tokens already issued stay valid until they expire.",
    body: passwordChangeBody,
    status: 204,
    errors: [],
  },
  deleteMe: {
    operationId: "deleteMe",
    method: "DELETE",
    path: "/me",
    action: "auth.deleteAccount",
    access: "user",
    tag,
    summary: "Delete the account and everything it owns",
    status: 204,
    errors: [],
  },
} satisfies Record<string, RouteSpec>;
