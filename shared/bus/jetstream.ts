import {
  AckPolicy,
  connect,
  type ConsumerMessages,
  DeliverPolicy,
  headers,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
  nanos,
  RetentionPolicy,
  StorageType,
} from "nats";
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

const DAY_MS = 24 * 60 * 60 * 1000;
const LAG_INTERVAL_MS = 5000;

const durableOf = (channel: ChannelName, group: string): string =>
  `${group}__${channel}`.replace(/[.*>\s]/g, "_");

/** Stream and subject names, separate per namespace so that two systems can share one NATS. */
export class StreamNames {
  readonly eventsStream: string;
  readonly deadLetterStream: string;
  readonly eventsPrefix: string;
  readonly deadLetterPrefix: string;

  constructor(namespace: string) {
    const token = namespace.replace(/[^A-Za-z0-9]/g, "_");
    this.eventsStream = `${token}_EVENTS`.toUpperCase();
    this.deadLetterStream = `${token}_DEAD_LETTERS`.toUpperCase();
    this.eventsPrefix = `${token}.events.`;
    this.deadLetterPrefix = `${token}.dead.`;
  }

  subjectOf(channel: ChannelName): string {
    return this.eventsPrefix + channel;
  }
}

/**
 * Durable channels on NATS JetStream, written over the `nats` client directly: a pull consumer per
 * (channel, group), explicit acks, naks with exponential backoff, and a dead-letter stream written
 * before the failing message is terminated.
 */
export class JetStreamBus implements ChannelBus {
  readonly kind = "jetstream" as const;
  private readonly consumers: ConsumerMessages[] = [];
  private readonly loops: Promise<void>[] = [];
  private readonly lagTimers: NodeJS.Timeout[] = [];
  private readonly connection: NatsConnection;
  private readonly js: JetStreamClient;
  private readonly jsm: JetStreamManager;
  private readonly names: StreamNames;

  private constructor(connection: NatsConnection, jsm: JetStreamManager, names: StreamNames) {
    this.connection = connection;
    this.jsm = jsm;
    this.names = names;
    this.js = connection.jetstream();
  }

  static async connect(url: string, name: string, namespace: string, replicas = 1): Promise<JetStreamBus> {
    const names = new StreamNames(namespace);
    const connection = await connect({
      servers: url,
      name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
    const jsm = await connection.jetstreamManager();
    await ensureStream(jsm, names.eventsStream, `${names.eventsPrefix}>`, 7 * DAY_MS, replicas);
    await ensureStream(jsm, names.deadLetterStream, `${names.deadLetterPrefix}>`, 30 * DAY_MS, replicas);
    return new JetStreamBus(connection, jsm, names);
  }

  async publish<C extends ChannelName>(
    channel: C,
    payload: ChannelPayloads[C],
    messageId?: string,
  ): Promise<void> {
    await this.js.publish(
      this.names.subjectOf(channel),
      JSON.stringify(payload),
      messageId ? { msgID: `${channel}:${messageId}` } : {},
    );
    channelPublished.inc({ channel });
  }

  async subscribe<C extends ChannelName>(
    channel: C,
    group: string,
    handler: ChannelHandler<C>,
    options: SubscribeOptions = {},
  ): Promise<void> {
    const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    const durable = durableOf(channel, group);
    await this.jsm.consumers.add(this.names.eventsStream, {
      durable_name: durable,
      filter_subject: this.names.subjectOf(channel),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(30_000),
      // A handler that crashes its process never reaches our dead-lettering; this bounds its redeliveries.
      max_deliver: maxAttempts + 2,
      max_ack_pending: 256,
    });
    const consumer = await this.js.consumers.get(this.names.eventsStream, durable);
    const messages = await consumer.consume({ max_messages: 64 });
    this.consumers.push(messages);
    this.watchLag(durable, channel, group);
    this.loops.push(this.run(messages, channel, group, handler as ChannelHandler<ChannelName>, maxAttempts));
  }

  /** Reports the group's backlog (not yet delivered + delivered but not acknowledged) every few seconds. */
  private watchLag(durable: string, channel: ChannelName, group: string): void {
    const timer = setInterval(() => {
      this.jsm.consumers
        .info(this.names.eventsStream, durable)
        .then((info) => channelPending.set({ channel, group }, info.num_pending + info.num_ack_pending))
        .catch(() => undefined);
    }, LAG_INTERVAL_MS);
    timer.unref();
    this.lagTimers.push(timer);
  }

  private async run(
    messages: ConsumerMessages,
    channel: ChannelName,
    group: string,
    handler: ChannelHandler<ChannelName>,
    maxAttempts: number,
  ): Promise<void> {
    for await (const message of messages) {
      await this.handle(message, channel, group, handler, maxAttempts);
    }
  }

  private async handle(
    message: JsMsg,
    channel: ChannelName,
    group: string,
    handler: ChannelHandler<ChannelName>,
    maxAttempts: number,
  ): Promise<void> {
    const labels = { channel, group };
    const attempt = message.info.deliveryCount;
    try {
      await handler(JSON.parse(message.string()) as never, { attempt });
      message.ack();
      channelProcessed.inc(labels);
    } catch (error) {
      channelFailed.inc(labels);
      if (attempt < maxAttempts) {
        message.nak(retryDelayMs(attempt));
        return;
      }
      try {
        const head = headers();
        head.set("Gt-Error", String(error).slice(0, 1000));
        head.set("Gt-Group", group);
        await this.js.publish(this.names.deadLetterPrefix + channel, message.data, { headers: head });
        // No reason with the term: nats-server before 2.10 ignores "+TERM <reason>", and the message
        // would come back after the ack wait and be dead-lettered again. The reason is in Gt-Error.
        message.term();
        channelDeadLettered.inc(labels);
      } catch {
        // The dead-letter stream is unreachable too: leave the message to be redelivered later.
        message.nak(retryDelayMs(attempt));
      }
    }
  }

  async deadLetterCount(): Promise<number> {
    return (await this.jsm.streams.info(this.names.deadLetterStream)).state.messages;
  }

  async ping(): Promise<void> {
    if (this.connection.isClosed()) throw new Error("NATS connection is closed");
    await this.jsm.getAccountInfo();
  }

  async close(): Promise<void> {
    for (const timer of this.lagTimers.splice(0)) clearInterval(timer);
    for (const messages of this.consumers) await messages.close();
    await Promise.allSettled(this.loops);
    await this.connection.drain().catch(() => undefined);
  }
}

async function ensureStream(
  jsm: JetStreamManager,
  name: string,
  subject: string,
  maxAgeMs: number,
  replicas: number,
): Promise<void> {
  const config = {
    name,
    num_replicas: replicas,
    subjects: [subject],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    max_age: nanos(maxAgeMs),
    duplicate_window: nanos(2 * 60 * 1000),
  };
  try {
    await jsm.streams.info(name);
    await jsm.streams.update(name, config);
  } catch {
    await jsm.streams.add(config);
  }
}
