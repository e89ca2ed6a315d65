import { authRoutes } from "./auth.ts";
import { operationRoutes } from "./operations.ts";
import type { RouteSpec } from "./route.ts";

export * from "./route.ts";

/** Every public route, in the order the documentation lists them. */
export const ROUTES: readonly RouteSpec[] = [...Object.values(authRoutes), ...Object.values(operationRoutes)];
