import { randomBytes } from "node:crypto";
import { Ajv, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { JOB_NAMES } from "../../shared/api/stats.ts";
import { ROUTES } from "../../shared/api/index.ts";
import type { RouteSpec } from "../../shared/api/route.ts";
import { ERROR_CODES, type ErrorCode } from "../../shared/errors.ts";
import type { JsonSchema } from "../../shared/validation.ts";
import { type Api, newEmail, registerUser, type Session } from "./api.ts";

/**
 * The route table seen by an attacker: which routes need a token, take a body or a query, which path
 * parameter names whose resource, and a minimal valid body for each, so that every test is generated
 * from ROUTES and a new route is covered the day it is added.
 */

export const PROTECTED_ROUTES = ROUTES.filter((route) => route.access !== "public");
export const USER_ROUTES = ROUTES.filter((route) => route.access === "user");
export const ADMIN_ROUTES = ROUTES.filter((route) => route.access === "admin");

/** A public unicast address given as a literal: a webhook may point there, and no DNS is needed. */
export const PROBE_WEBHOOK_URL = "http://93.184.215.14/security-probe";
/** Subscribed to by probe webhooks: no event of a test run produces one, so nothing is ever sent out. */
export const PROBE_WEBHOOK_EVENTS = ["weekly.summary"];

export function label(route: RouteSpec): string {
  return `${route.method} ${route.path}`;
}

export function takesBody(route: RouteSpec): boolean {
  return route.method === "POST" || route.method === "PUT" || route.method === "PATCH";
}

export function randomId(): string {
  return randomBytes(16).toString("hex");
}

export function isoDate(offsetDays = 0): string {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

/** What a user owns, by the name a path uses for it. */
export interface ResourceIds {
  goal: string;
  activity: string;
  skipDate: string;
  webhook: string;
  notification?: string;
}

/** `/goals/:id` names a goal, `/activities/:id` an activity, and so on. */
const RESOURCE_OF_COLLECTION: Record<string, keyof ResourceIds> = {
  goals: "goal",
  activities: "activity",
  notifications: "notification",
  webhooks: "webhook",
};

/** The resource a path parameter names, or null when the route table gives no owned resource for it. */
export function resourceOf(route: RouteSpec, param: string): keyof ResourceIds | null {
  const segments = route.path.split("/");
  const index = segments.indexOf(`:${param}`);
  if (param === "date" && segments.includes("skips")) return "skipDate";
  if (param !== "id") return null;
  return RESOURCE_OF_COLLECTION[segments[index - 1] ?? ""] ?? null;
}

/** Routes whose path names a resource some user owns (so another user must get a 404). */
export function ownsResource(route: RouteSpec): boolean {
  return Object.keys(route.pathParams ?? {}).some((param) => resourceOf(route, param) !== null);
}

/** The 404 codes a route documents (GOAL_NOT_FOUND, ACTIVITY_NOT_FOUND, NOT_FOUND). */
export function notFoundCodes(route: RouteSpec): ErrorCode[] {
  return route.errors.filter((code) => ERROR_CODES[code].status === 404);
}

/** A value a schema accepts: the first enum value, the minimum, a date for a date, and so on. */
export function sampleFromSchema(schema: JsonSchema | undefined): unknown {
  if (!schema) return {};
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if (Array.isArray(schema.anyOf)) return sampleFromSchema(schema.anyOf[0] as JsonSchema);
  switch (schema.type) {
    case "object": {
      const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const branch = (Array.isArray(schema.oneOf) ? schema.oneOf[0] : undefined) as JsonSchema | undefined;
      const then = schema.then as JsonSchema | undefined;
      const required = new Set<string>([
        ...((schema.required as string[] | undefined) ?? []),
        ...((branch?.required as string[] | undefined) ?? []),
        ...((then?.required as string[] | undefined) ?? []),
      ]);
      return Object.fromEntries([...required].map((name) => [name, sampleFromSchema(properties[name])]));
    }
    case "array": {
      const count = Math.max(1, Number(schema.minItems ?? 1));
      return Array.from({ length: count }, () => sampleFromSchema(schema.items as JsonSchema));
    }
    case "string":
      if (schema.format === "date") return isoDate();
      if (schema.format === "date-time") return new Date().toISOString();
      if (schema.format === "email") return newEmail("probe");
      if (schema.format === "uri") return PROBE_WEBHOOK_URL;
      return "x".repeat(Math.max(1, Number(schema.minLength ?? 1)));
    case "integer":
    case "number":
      if (typeof schema.minimum === "number") return Math.max(schema.minimum, 1);
      if (typeof schema.exclusiveMinimum === "number") return schema.exclusiveMinimum + 1;
      return 1;
    case "boolean":
      return true;
    default:
      return "x";
  }
}

/** What a sample body may use of its owner. */
export interface SampleContext {
  ids: ResourceIds;
  email: string;
  password: string;
  refreshToken: string;
}

/** Bodies the schema alone cannot tell (a pattern with its own fields, a working webhook URL, …). */
const SAMPLES: Record<string, (context: SampleContext) => Record<string, unknown>> = {
  register: () => ({ email: newEmail("probe"), password: "probe password 1" }),
  login: (c) => ({ email: c.email, password: c.password }),
  refresh: (c) => ({ refreshToken: c.refreshToken }),
  logout: (c) => ({ refreshToken: c.refreshToken }),
  updateMe: () => ({ displayName: "Probe" }),
  changePassword: (c) => ({ currentPassword: c.password, newPassword: c.password }),
  createGoal: () => ({ pattern: "daily", title: "Probe goal" }),
  updateGoal: () => ({ title: "Probe title" }),
  archiveGoals: (c) => ({ ids: [c.ids.goal] }),
  addSkips: () => ({ date: isoDate(-1) }),
  logActivity: () => ({ quantity: 1 }),
  updateActivity: () => ({ quantity: 2 }),
  logActivities: (c) => ({ items: [{ goalId: c.ids.goal }] }),
  putNotificationSettings: () => ({ email: false, reminderTime: "07:30", weeklySummary: false, types: {} }),
  createWebhook: () => ({ url: PROBE_WEBHOOK_URL, events: PROBE_WEBHOOK_EVENTS }),
};

/** A minimal body the route's schema accepts; `{}` for a POST that reads none. */
export function sampleBody(route: RouteSpec, context: SampleContext): Record<string, unknown> {
  const sample = SAMPLES[route.operationId];
  if (sample) return sample(context);
  return (route.body ? sampleFromSchema(route.body) : {}) as Record<string, unknown>;
}

/** The route's path with owned resources filled in (else a value the parameter's schema accepts). */
export function fillPath(route: RouteSpec, ids: Partial<ResourceIds>): string {
  return route.path
    .split("/")
    .map((segment) => {
      if (!segment.startsWith(":")) return segment;
      const name = segment.slice(1);
      const resource = resourceOf(route, name);
      let value = resource ? ids[resource] : undefined;
      if (value === undefined && route.path.startsWith("/admin/jobs/")) value = JOB_NAMES[0];
      if (value === undefined && resource === null && name === "id") value = randomId();
      value ??= String(sampleFromSchema(route.pathParams?.[name]));
      return encodeURIComponent(value);
    })
    .join("/");
}

/** The same path, with every owned resource replaced by an id nobody owns. */
export function missingPath(route: RouteSpec, ids: ResourceIds): string {
  return fillPath(route, {
    ...ids,
    goal: randomId(),
    activity: randomId(),
    notification: randomId(),
    webhook: randomId(),
  });
}

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats.default(ajv);
const validators = new Map<JsonSchema, ValidateFunction>();

/** Whether a route's body schema accepts a value (checked on a copy: defaults are not filled in). */
export function bodyErrors(route: RouteSpec, body: unknown): string | null {
  if (!route.body) return body && Object.keys(body).length > 0 ? "the route reads no body" : null;
  let validate = validators.get(route.body);
  if (!validate) {
    validate = ajv.compile(route.body);
    validators.set(route.body, validate);
  }
  return validate(structuredClone(body)) ? null : ajv.errorsText(validate.errors);
}

export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`${what}: not seen within ${timeoutMs} ms`);
}

export type UserSession = Session & { password: string };

/** A user with one of everything: a goal with an activity and a skip, a webhook, optionally a notification. */
export interface Owner {
  session: UserSession;
  ids: ResourceIds;
  context: SampleContext;
}

function expectStatus(response: { status: number; text: string }, status: number, what: string): void {
  if (response.status !== status) throw new Error(`${what}: ${response.status} ${response.text}`);
}

export async function createOwner(api: Api, options: { notification?: boolean } = {}): Promise<Owner> {
  const session = await registerUser(api, { password: `owner-${randomId()}` });
  const auth = { token: session.accessToken };
  const goal = await api.post<{ id: string }>(
    "/goals",
    { pattern: "daily", title: "Owner's goal", startDate: isoDate(-7), tags: ["private"] },
    auth,
  );
  expectStatus(goal, 201, "create goal");
  const activity = await api.post<{ id: string }>(
    `/goals/${goal.body.id}/activities`,
    { quantity: 3, note: "owner's note" },
    auth,
  );
  expectStatus(activity, 201, "log activity");
  const skipDate = isoDate(-3);
  expectStatus(await api.post(`/goals/${goal.body.id}/skips`, { date: skipDate }, auth), 200, "add skip");
  const webhook = await api.post<{ id: string }>(
    "/webhooks",
    { url: PROBE_WEBHOOK_URL, events: PROBE_WEBHOOK_EVENTS },
    auth,
  );
  expectStatus(webhook, 201, "create webhook");
  const ids: ResourceIds = {
    goal: goal.body.id,
    activity: activity.body.id,
    skipDate,
    webhook: webhook.body.id,
  };
  if (options.notification) {
    // A target goal reached by one log: goal.completed lands in the inbox.
    const target = await api.post<{ id: string }>(
      "/goals",
      { pattern: "target", title: "Owner's target", target: 1, unit: "x", endDate: isoDate(30) },
      auth,
    );
    expectStatus(target, 201, "create target goal");
    expectStatus(
      await api.post(`/goals/${target.body.id}/activities`, { quantity: 1 }, auth),
      201,
      "complete target goal",
    );
    ids.notification = await eventually(async () => {
      const inbox = await api.get<{ items: { id: string }[] }>("/notifications", auth);
      return inbox.body.items[0]?.id;
    }, "the owner's goal.completed notification");
  }
  return {
    session,
    ids,
    context: {
      ids,
      email: session.user.email,
      password: session.password,
      refreshToken: session.refreshToken,
    },
  };
}
