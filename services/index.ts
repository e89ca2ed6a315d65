import type { ServiceSchema } from "moleculer";
import type { ServiceName } from "../shared/config.ts";
import type { ServiceDeps } from "../shared/runtime-types.ts";
import activityService from "./activity/activity.service.ts";
import aggregationService from "./aggregation/aggregation.service.ts";
import authService from "./auth/auth.service.ts";
import gatewayService from "./gateway/gateway.service.ts";
import goalsService from "./goals/goals.service.ts";
import notificationService from "./notification/notification.service.ts";
import streakService from "./streak/streak.service.ts";

export interface ServiceEntry {
  create: (deps: ServiceDeps) => ServiceSchema;
  /** Whether the service owns collections (and so whether its process must reach the database). */
  usesDatabase: boolean;
}

export const SERVICES: Record<ServiceName, ServiceEntry> = {
  auth: { create: authService, usesDatabase: true },
  goals: { create: goalsService, usesDatabase: true },
  activity: { create: activityService, usesDatabase: true },
  streak: { create: streakService, usesDatabase: true },
  aggregation: { create: aggregationService, usesDatabase: true },
  notification: { create: notificationService, usesDatabase: true },
  gateway: { create: gatewayService, usesDatabase: false },
};
