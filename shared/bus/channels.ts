import type { GoalRules, LocalDate } from "../domain/goal-types.ts";

/** A goal as the services that keep derived data of it need to know it. */
export interface GoalState {
  goalId: string;
  userId: string;
  /** The goal's version: a consumer keeps the highest it has seen. */
  version: number;
  rules: GoalRules;
  status: "active" | "completed" | "archived";
}

/** One version of one activity: consumers keep the highest version per activity id. */
export interface ActivityChange {
  activityId: string;
  goalId: string;
  userId: string;
  version: number;
  localDate: LocalDate;
  quantity: number;
  deleted: boolean;
  occurredAt: string;
  goal: GoalState;
  /** The user's today when the change was made (zone and day start applied). */
  today: LocalDate;
}

/** Durable messages between services: channel name → payload. */
export interface ChannelPayloads {
  "user.deleted": { userId: string; deletedAt: string };
  "activity.changed": ActivityChange;
  "goal.changed": GoalState & { today: LocalDate };
  "goal.deleted": { goalId: string; userId: string };
  "streak.milestone": {
    goalId: string;
    userId: string;
    milestone: number;
    current: number;
    lastMetDate: LocalDate | null;
  };
  "streak.broken": { goalId: string; userId: string; previous: number; lastMetDate: LocalDate | null };
  "goal.completed": { goalId: string; userId: string; completedOn: LocalDate };
  "goal.skips.changed": {
    goalId: string;
    userId: string;
    dates: LocalDate[];
    skipped: boolean;
    goal: GoalState;
    today: LocalDate;
  };
}

export type ChannelName = keyof ChannelPayloads;

export interface DeliveryInfo {
  /** 1 on the first delivery, then 2, 3, … */
  attempt: number;
}

export type ChannelHandler<C extends ChannelName> = (
  payload: ChannelPayloads[C],
  info: DeliveryInfo,
) => Promise<void>;

export interface SubscribeOptions {
  /** Attempts before the message is dead-lettered. */
  maxAttempts?: number;
}

export interface ChannelBus {
  readonly kind: "memory" | "jetstream";
  /** `messageId` lets the bus drop a duplicate publish of the same message. */
  publish<C extends ChannelName>(channel: C, payload: ChannelPayloads[C], messageId?: string): Promise<void>;
  /** Each consumer group gets every message once (at least once, acknowledged after the handler succeeds). */
  subscribe<C extends ChannelName>(
    channel: C,
    group: string,
    handler: ChannelHandler<C>,
    options?: SubscribeOptions,
  ): Promise<void>;
  /** How many messages sit in the dead-letter store. */
  deadLetterCount(): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_MAX_ATTEMPTS = 10;

/** Exponential backoff with full jitter: a database outage is waited out, not burned through. */
export function retryDelayMs(attempt: number, baseMs = 500, maxMs = 30_000): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}
