import type { ServiceSchema } from "moleculer";
import type { ServiceName } from "../shared/config.ts";
import type { ServiceDeps } from "../shared/runtime-types.ts";

type ServiceFactory = (deps: ServiceDeps) => ServiceSchema;

export interface ServiceEntry {
  /**
   * The service's module, loaded only by the processes that run it: a process of one service does not pay
   * for the others' dependencies (mail, password hashing, the API docs) in start time and memory.
   */
  load: () => Promise<{ default: ServiceFactory }>;
  /** Whether the service owns collections (and so whether its process must reach the database). */
  usesDatabase: boolean;
}

export const SERVICES: Record<ServiceName, ServiceEntry> = {
  auth: { load: () => import("./auth/auth.service.ts"), usesDatabase: true },
  goals: { load: () => import("./goals/goals.service.ts"), usesDatabase: true },
  activity: { load: () => import("./activity/activity.service.ts"), usesDatabase: true },
  streak: { load: () => import("./streak/streak.service.ts"), usesDatabase: true },
  aggregation: { load: () => import("./aggregation/aggregation.service.ts"), usesDatabase: true },
  notification: { load: () => import("./notification/notification.service.ts"), usesDatabase: true },
  gateway: { load: () => import("./gateway/gateway.service.ts"), usesDatabase: false },
};
