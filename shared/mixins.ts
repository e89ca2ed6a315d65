import type { Middleware, Service, ServiceSchema } from "moleculer";
import { type ReadinessCheck, runChecks } from "./ops/server.ts";
import { actionCalls, actionDuration } from "./ops/metrics.ts";

/**
 * Adds `<service>.health`, which the gateway's /ready calls: it reports this service's own
 * dependencies (database, bus) as seen from the process that runs it. Not reachable from outside.
 */
export function healthMixin(checks: Record<string, ReadinessCheck>): Partial<ServiceSchema> {
  return {
    actions: {
      health: {
        visibility: "public",
        async handler() {
          return runChecks(checks, false);
        },
      },
    },
  };
}

function outcomeOf(error: unknown): "client_error" | "server_error" {
  const status = (error as { code?: unknown } | null)?.code;
  return typeof status === "number" && status >= 400 && status < 500 ? "client_error" : "server_error";
}

/** RED metrics for every local action, labelled by action name only (bounded). */
export const actionMetrics: Middleware = {
  name: "ActionMetrics",
  localAction(handler, action) {
    const name = String(action.name);
    return async function measured(this: Service, ctx) {
      const stop = actionDuration.startTimer({ action: name });
      try {
        const result = await handler.call(this, ctx);
        actionCalls.inc({ action: name, outcome: "ok" });
        return result;
      } catch (error) {
        actionCalls.inc({ action: name, outcome: outcomeOf(error) });
        throw error;
      } finally {
        stop();
      }
    };
  },
};
