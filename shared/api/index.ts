import { activityRoutes } from "./activities.ts";
import { authRoutes } from "./auth.ts";
import { goalHistoryRoutes, goalRoutes } from "./goals.ts";
import { insightRoutes } from "./insights.ts";
import { notificationRoutes, webhookRoutes } from "./notifications.ts";
import { operationRoutes } from "./operations.ts";
import { adminRoutes, statsRoutes } from "./stats.ts";
import { templateRoutes } from "./templates.ts";
import type { RouteSpec } from "./route.ts";

export * from "./route.ts";

/** Every public route, in the order the documentation lists them. */
export const ROUTES: readonly RouteSpec[] = [
  ...Object.values(authRoutes),
  ...Object.values(goalRoutes),
  ...Object.values(goalHistoryRoutes),
  ...Object.values(templateRoutes),
  ...Object.values(activityRoutes),
  ...Object.values(insightRoutes),
  ...Object.values(statsRoutes),
  ...Object.values(notificationRoutes),
  ...Object.values(webhookRoutes),
  ...Object.values(adminRoutes),
  ...Object.values(operationRoutes),
];
