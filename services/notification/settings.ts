import { NOTIFICATION_TYPES, type NotificationType } from "../../shared/api/notifications.ts";
import type { NotificationSettingsDoc } from "./model.ts";

/** The settings as the API shows them: every type named, true when it is on. */
export interface NotificationSettings {
  email: boolean;
  reminderTime: string;
  weeklySummary: boolean;
  types: Record<NotificationType, boolean>;
}

/** What PUT takes: `types` may name only some types. */
export interface NotificationSettingsInput {
  email: boolean;
  reminderTime: string;
  weeklySummary: boolean;
  types: Partial<Record<NotificationType, boolean>>;
}

export const DEFAULT_SETTINGS = { email: true, reminderTime: "20:00", weeklySummary: true } as const;

/** A user's settings: the stored ones, or the defaults (email on, 20:00, summary on, every type on). */
export function settingsView(doc: NotificationSettingsDoc | null): NotificationSettings {
  const disabled = new Set(doc?.disabledTypes ?? []);
  return {
    email: doc?.email ?? DEFAULT_SETTINGS.email,
    reminderTime: doc?.reminderTime ?? DEFAULT_SETTINGS.reminderTime,
    weeklySummary: doc?.weeklySummary ?? DEFAULT_SETTINGS.weeklySummary,
    types: Object.fromEntries(NOTIFICATION_TYPES.map((type) => [type, !disabled.has(type)])) as Record<
      NotificationType,
      boolean
    >,
  };
}

/** The stored form of a PUT: the three scalars replaced, the types it names switched, the others kept. */
export function applySettings(
  current: NotificationSettingsDoc | null,
  input: NotificationSettingsInput,
): Omit<NotificationSettingsDoc, "_id" | "updatedAt"> {
  const types = { ...settingsView(current).types, ...input.types };
  return {
    email: input.email,
    reminderTime: input.reminderTime,
    weeklySummary: input.weeklySummary,
    disabledTypes: NOTIFICATION_TYPES.filter((type) => !types[type]),
  };
}
