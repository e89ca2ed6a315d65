import { createHmac, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedWebhook {
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Whether X-Webhook-Signature is the HMAC-SHA256 of the raw body with the receiver's secret. */
  signatureValid: boolean;
  receivedAt: number;
}

export interface WebhookReceiver {
  url: string;
  /** The webhook's secret, known once the webhook is created: requests are verified with it. */
  secret: string;
  readonly received: ReceivedWebhook[];
  close(): Promise<void>;
}

/** Checks `sha256=<hex>` against the raw body, as a receiver is told to. */
export function verifySignature(body: string, header: string | undefined, secret: string): boolean {
  const match = /^sha256=([0-9a-f]{64})$/.exec(header ?? "");
  if (!match) return false;
  const expected = createHmac("sha256", secret).update(body).digest();
  return timingSafeEqual(Buffer.from(match[1]!, "hex"), expected);
}

/**
 * A real HTTP server on a free loopback port that takes webhook POSTs, verifies their signatures and
 * answers with the status `respond` gives for the n-th request (1, 2, …), 200 by default.
 */
export async function startWebhookReceiver(
  respond: (n: number) => number = () => 200,
): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const receiver = { secret: "", received } as WebhookReceiver;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const header = req.headers["x-webhook-signature"];
      received.push({
        headers: req.headers,
        body,
        signatureValid: verifySignature(
          body,
          typeof header === "string" ? header : undefined,
          receiver.secret,
        ),
        receivedAt: Date.now(),
      });
      const status = respond(received.length);
      res.writeHead(status, { "Content-Type": "text/plain" });
      res.end(status < 300 ? "ok" : "not now");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  receiver.url = `http://127.0.0.1:${port}/hooks`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

/** A loopback URL nothing listens on: every attempt is refused at connect. */
export async function deadUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/gone`;
}
