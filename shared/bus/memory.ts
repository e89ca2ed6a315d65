import {
  channelDeadLettered,
  channelFailed,
  channelPending,
  channelProcessed,
  channelPublished,
} from "../ops/metrics.ts";
import {
  type ChannelBus,
  type ChannelHandler,
  type ChannelName,
  type ChannelPayloads,
  DEFAULT_MAX_ATTEMPTS,
  retryDelayMs,
  type SubscribeOptions,
} from "./channels.ts";

interface Subscription {
  channel: ChannelName;
  group: string;
  handler: ChannelHandler<ChannelName>;
  maxAttempts: number;
}

export interface DeadLetter {
  channel: ChannelName;
  group: string;
  payload: unknown;
  error: string;
}

const DUPLICATE_WINDOW_MS = 2 * 60 * 1000;

/**
 * In-process bus for the embedded mode: the same delivery rules as JetStream (per-group delivery,
 * retries with backoff, dead letters, duplicate publishes dropped) without durability across restarts.
 */
export class MemoryBus implements ChannelBus {
  readonly kind = "memory" as const;
  readonly deadLetters: DeadLetter[] = [];
  private readonly subscriptions: Subscription[] = [];
  private readonly recentIds = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private inFlight = 0;
  private sequence = 0;
  private idleWaiters: Array<() => void> = [];
  private closed = false;
  private readonly backoff: (attempt: number) => number;

  constructor(backoff: (attempt: number) => number = retryDelayMs) {
    this.backoff = backoff;
  }

  async publish<C extends ChannelName>(
    channel: C,
    payload: ChannelPayloads[C],
    messageId?: string,
  ): Promise<void> {
    if (this.closed) throw new Error("channel bus is closed");
    if (messageId && this.isDuplicate(`${channel}:${messageId}`)) return;
    channelPublished.inc({ channel });
    const wire = JSON.stringify(payload);
    const groups = new Map<string, Subscription[]>();
    for (const subscription of this.subscriptions.filter((s) => s.channel === channel)) {
      groups.set(subscription.group, [...(groups.get(subscription.group) ?? []), subscription]);
    }
    // Like a JetStream consumer: each group gets the message once, shared among its subscribers.
    for (const members of groups.values()) {
      this.deliver(members[this.sequence % members.length]!, wire, 1);
    }
    this.sequence += 1;
  }

  async subscribe<C extends ChannelName>(
    channel: C,
    group: string,
    handler: ChannelHandler<C>,
    options: SubscribeOptions = {},
  ): Promise<void> {
    this.subscriptions.push({
      channel,
      group,
      handler: handler as ChannelHandler<ChannelName>,
      maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    });
  }

  async deadLetterCount(): Promise<number> {
    return this.deadLetters.length;
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error("channel bus is closed");
  }

  /** Resolves once no message is being handled or waiting for a retry. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private isDuplicate(key: string): boolean {
    const now = Date.now();
    for (const [id, seenAt] of this.recentIds) {
      if (now - seenAt > DUPLICATE_WINDOW_MS) this.recentIds.delete(id);
      else break;
    }
    if (this.recentIds.has(key)) return true;
    this.recentIds.set(key, now);
    return false;
  }

  private deliver(subscription: Subscription, wire: string, attempt: number, delayMs = 0): void {
    const labels = { channel: subscription.channel, group: subscription.group };
    this.inFlight += 1;
    channelPending.inc(labels);
    const timer = setTimeout(async () => {
      this.timers.delete(timer);
      try {
        await subscription.handler(JSON.parse(wire) as never, { attempt });
        channelProcessed.inc(labels);
      } catch (error) {
        channelFailed.inc(labels);
        if (attempt >= subscription.maxAttempts) {
          channelDeadLettered.inc(labels);
          this.deadLetters.push({ ...labels, payload: JSON.parse(wire), error: String(error) });
        } else if (!this.closed) {
          this.deliver(subscription, wire, attempt + 1, this.backoff(attempt));
        }
      } finally {
        channelPending.dec(labels);
        this.settle();
      }
    }, delayMs);
    this.timers.add(timer);
  }

  private settle(): void {
    this.inFlight -= 1;
    if (this.inFlight === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}
