import type { Context, ServiceBroker } from "moleculer";
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

/** A user as the scheduled jobs see one: who, where (zone, day start, week start) and how to write to them. */
export interface UserRow {
  id: string;
  email: string;
  displayName: string;
  timezone: string;
  dayStartHour: number;
  weekStart: WeekStart;
}

const USERS_PAGE = 200;

/** Every user, page by page in id order, from the auth service that owns them. */
export async function* allUsers(broker: ServiceBroker): AsyncGenerator<UserRow> {
  let afterId: string | null = null;
  for (;;) {
    const page: UserRow[] = await broker.call<UserRow[], object>("auth.listUsers", {
      afterId,
      limit: USERS_PAGE,
    });
    yield* page;
    if (page.length < USERS_PAGE) return;
    afterId = page[page.length - 1]!.id;
  }
}
