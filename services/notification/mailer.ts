import { mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import nodemailer from "nodemailer";

export interface Mail {
  to: { name: string; address: string };
  subject: string;
  text: string;
  /** The notification's id: names the outbox file and goes out as X-Notification-Id. */
  notificationId: string;
}

export interface Mailer {
  /** `smtp` when SMTP_URL is set; `outbox` writes one .eml file per mail under DATA_DIR/outbox. */
  readonly kind: "smtp" | "outbox";
  send(mail: Mail): Promise<void>;
  close(): void;
}

const FROM = { name: "Goal tracker", address: "notifications@goal-tracker.invalid" };

function message(mail: Mail) {
  return {
    from: FROM,
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    headers: { "X-Notification-Id": mail.notificationId },
  };
}

/**
 * Email through nodemailer: an SMTP transport for `smtpUrl`, or (in embedded development, without one)
 * nodemailer's stream transport, whose finished message is written to the outbox for a person to open.
 */
export function createMailer(smtpUrl: string | null, dataDir: string): Mailer {
  if (smtpUrl) {
    // Short timeouts: a mail server that hangs must not hold a channel message for minutes.
    const transport = nodemailer.createTransport({
      url: smtpUrl,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    });
    return {
      kind: "smtp",
      async send(mail) {
        await transport.sendMail(message(mail));
      },
      close: () => transport.close(),
    };
  }
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" });
  const outbox = path.join(dataDir, "outbox");
  return {
    kind: "outbox",
    async send(mail) {
      const info = await transport.sendMail(message(mail));
      await mkdir(outbox, { recursive: true });
      const file = path.join(outbox, `${mail.notificationId}.eml`);
      // Written whole, then renamed: a reader never sees half a message.
      await writeFile(`${file}.tmp`, info.message as Buffer);
      await rename(`${file}.tmp`, file);
    },
    close: () => undefined,
  };
}
