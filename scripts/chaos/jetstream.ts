/**
 * What the fault-injection run reads and writes on the bus from outside the services: a poison message
 * that must end in the dead-letter stream, the consumers' backlog, and the dead-letter stream's content.
 */
import { connect, type JetStreamManager, type NatsConnection } from "nats";
import type { ChannelName } from "../../shared/bus/channels.ts";
import { StreamNames } from "../../shared/bus/jetstream.ts";

/** A message no consumer can parse: it must be retried, then dead-lettered, and nothing else may be. */
export const POISON_CHANNEL: ChannelName = "streak.milestone";
export const POISON_BODY = "chaos: this message is not JSON and must end in the dead-letter stream";

async function withConnection<T>(url: string, work: (connection: NatsConnection) => Promise<T>): Promise<T> {
  const connection = await connect({ servers: url, timeout: 5000 });
  try {
    return await work(connection);
  } finally {
    await connection.close();
  }
}

export function publishPoison(url: string, namespace: string): Promise<void> {
  const names = new StreamNames(namespace);
  return withConnection(url, async (connection) => {
    await connection.jetstream().publish(names.subjectOf(POISON_CHANNEL), POISON_BODY);
  });
}

export interface Backlog {
  /** Messages not yet delivered plus delivered but not acknowledged, over every consumer group. */
  pending: number;
  byConsumer: Record<string, number>;
  deadLetters: number;
}

export function backlog(url: string, namespace: string): Promise<Backlog> {
  const names = new StreamNames(namespace);
  return withConnection(url, async (connection) => {
    const jsm = await connection.jetstreamManager();
    const byConsumer: Record<string, number> = {};
    let pending = 0;
    for (const info of await jsm.consumers.list(names.eventsStream).next()) {
      const waiting = info.num_pending + info.num_ack_pending;
      byConsumer[info.name] = waiting;
      pending += waiting;
    }
    const deadLetters = (await jsm.streams.info(names.deadLetterStream)).state.messages;
    return { pending, byConsumer, deadLetters };
  });
}

export interface DeadLetter {
  subject: string;
  body: string;
  group: string | null;
  error: string | null;
}

async function readStream(jsm: JetStreamManager, stream: string): Promise<DeadLetter[]> {
  const { state } = await jsm.streams.info(stream);
  const out: DeadLetter[] = [];
  if (state.messages === 0) return out;
  for (let seq = state.first_seq; seq <= state.last_seq; seq += 1) {
    const message = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (!message) continue; // a gap: deleted messages keep their sequence numbers
    out.push({
      subject: message.subject,
      body: new TextDecoder().decode(message.data),
      group: message.header?.get("Gt-Group") || null,
      error: message.header?.get("Gt-Error") || null,
    });
  }
  return out;
}

export function deadLetters(url: string, namespace: string): Promise<DeadLetter[]> {
  const names = new StreamNames(namespace);
  return withConnection(url, async (connection) =>
    readStream(await connection.jetstreamManager(), names.deadLetterStream),
  );
}

export function poisonSubject(namespace: string): string {
  return `${new StreamNames(namespace).deadLetterPrefix}${POISON_CHANNEL}`;
}
