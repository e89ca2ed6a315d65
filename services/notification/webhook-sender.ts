import { createHmac } from "node:crypto";
import type { LookupFunction } from "node:net";
import http from "node:http";
import https from "node:https";
import type { AttemptOutcome } from "./model.ts";
import { RefusedTarget, resolveTarget, type ResolvedAddress } from "./address-guard.ts";

/** `sha256=<hex HMAC-SHA256 of the raw body keyed with the webhook's secret>`. */
export function signatureOf(body: string, secret: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export interface SendResult {
  outcome: Exclude<AttemptOutcome, "pending">;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
}

export interface WebhookRequest {
  url: string;
  deliveryId: string;
  body: string;
  secret: string;
  timeoutMs: number;
  allowPrivate: boolean;
}

const USER_AGENT = "goal-tracker-webhooks/1";
/** Enough of an answer to tell what went wrong; the rest is read and dropped. */
const MAX_ERROR_BODY = 200;

/** A lookup that answers the one address already checked: DNS is not asked again between check and connect. */
function pinnedLookup(target: ResolvedAddress): LookupFunction {
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  }) as LookupFunction;
}

/**
 * One attempt: resolve and check the host again (a name that resolved to a public address when the
 * webhook was created may resolve to a private one now), then POST to exactly that address, within
 * `timeoutMs` for the whole exchange. Never throws.
 */
export async function sendWebhook(request: WebhookRequest): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const url = new URL(request.url);
  let target: ResolvedAddress;
  try {
    target = await resolveTarget(url, request.allowPrivate);
  } catch (error) {
    const message = error instanceof RefusedTarget ? `refused: the URL ${error.message}` : String(error);
    const outcome = error instanceof RefusedTarget && error.reason === "unresolvable" ? "failure" : "refused";
    return { outcome, statusCode: null, durationMs: elapsed(), error: message };
  }
  const client = url.protocol === "https:" ? https : http;
  const payload = Buffer.from(request.body);
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (result: Omit<SendResult, "durationMs">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...result, durationMs: elapsed() });
    };
    const req = client.request(
      url,
      {
        method: "POST",
        lookup: pinnedLookup(target),
        agent: false,
        headers: {
          "Content-Type": "application/json",
          "Content-Length": payload.length,
          "User-Agent": USER_AGENT,
          "X-Webhook-Id": request.deliveryId,
          "X-Webhook-Signature": signatureOf(request.body, request.secret),
        },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          if (text.length < MAX_ERROR_BODY) text += chunk;
        });
        res.on("error", (error) => finish({ outcome: "failure", statusCode: status, error: error.message }));
        res.on("end", () => {
          const ok = status >= 200 && status < 300;
          finish({
            outcome: ok ? "success" : "failure",
            statusCode: status,
            error: ok ? null : `HTTP ${status}${text ? `: ${text.slice(0, MAX_ERROR_BODY)}` : ""}`,
          });
        });
      },
    );
    const timer = setTimeout(() => {
      finish({ outcome: "timeout", statusCode: null, error: `no answer within ${request.timeoutMs} ms` });
      req.destroy();
    }, request.timeoutMs);
    req.on("error", (error: NodeJS.ErrnoException) =>
      finish({ outcome: "failure", statusCode: null, error: error.code ?? error.message }),
    );
    req.end(payload);
  });
}
