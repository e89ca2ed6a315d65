import type { Context } from "moleculer";
import type { WeekStart } from "./domain/profile.ts";

export interface UserSettings {
  timezone: string;
  dayStartHour: number;
  weekStart: WeekStart;
  email: string;
  displayName: string;
}

/** The calendar settings of a user, from the auth service that owns them. */
export function userSettings(ctx: Context<unknown, object>, userId: string): Promise<UserSettings> {
  return ctx.call<UserSettings, { userId: string }>("auth.settings", { userId });
}
