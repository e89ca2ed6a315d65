import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { Api, newEmail, type Session } from "../helpers/api.ts";
import { STACK } from "../helpers/environment.ts";
import { eventually, isoDate } from "../helpers/security-routes.ts";
import { captureOutput, startStackLoggingTo } from "../helpers/security-stack.ts";
import type { Stack } from "../helpers/stack.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../helpers/webhook-receiver.ts";

const marker = (what: string) => `${what}-${randomBytes(9).toString("base64url")}`;

async function readLogs(dir: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const texts = await Promise.all(
    entries
      .filter((entry) => entry.isFile() && entry.name.endsWith(".log"))
      .map((entry) => readFile(path.join(entry.parentPath, entry.name), "utf8")),
  );
  return texts.join("\n");
}

/**
 * Runs every flow that handles a secret on a stack logging at debug level, with this process's output
 * (the embedded stack) or every service's log file (the distributed stack) captured, and then looks
 * for each secret in what was written.
 */
describe(`Security: no secret in the logs (LOG_LEVEL=debug, ${STACK} stack)`, function () {
  this.timeout(180_000);
  let output = "";
  const secrets: Record<string, string> = {};
  const note = (name: string, value: string | undefined) => {
    if (value) secrets[name] = value;
  };

  before(async function () {
    this.timeout(180_000);
    const logDir = await mkdtemp(path.join(os.tmpdir(), "security-logs-"));
    const capture = captureOutput();
    let stack: Stack | undefined;
    let receiver: WebhookReceiver | undefined;
    try {
      stack = await startStackLoggingTo(
        { LOG_LEVEL: "debug", WEBHOOK_ALLOW_PRIVATE: "true", WEBHOOK_RETRY_BASE_MS: "50" },
        logDir,
      );
      const api = new Api(stack.baseUrl);
      const email = newEmail("logs");
      const password = marker("first-password");
      const newPassword = marker("second-password");
      const wrongPassword = marker("wrong-password");
      note("password", password);
      note("new password", newPassword);
      note("wrong password", wrongPassword);

      const registered = await api.post<Session>("/auth/register", { email, password });
      expect(registered.status).to.equal(201);
      const sessions: Session[] = [registered.body];
      expect((await api.post("/auth/login", { email, password: wrongPassword })).status).to.equal(401);
      const loggedIn = await api.post<Session>("/auth/login", { email, password });
      sessions.push(loggedIn.body);
      const refreshed = await api.post<Session>("/auth/refresh", {
        refreshToken: loggedIn.body.refreshToken,
      });
      expect(refreshed.status).to.equal(200);
      sessions.push(refreshed.body);
      // Reusing a refresh token is the path that revokes a family and counts a metric: it must not log it.
      expect((await api.post("/auth/refresh", { refreshToken: loggedIn.body.refreshToken })).status).to.equal(
        401,
      );
      const token = registered.body.accessToken;
      const changed = await api.post("/me/password", { currentPassword: password, newPassword }, { token });
      expect(changed.status).to.equal(204);
      const wrongCurrent = await api.post(
        "/me/password",
        { currentPassword: wrongPassword, newPassword: password },
        { token },
      );
      expect(wrongCurrent.status).to.equal(401);
      const again = await api.post<Session>("/auth/login", { email, password: newPassword });
      expect(again.status).to.equal(200);
      sessions.push(again.body);
      expect(
        (
          await api.post(
            "/auth/logout",
            { refreshToken: again.body.refreshToken },
            { token: again.body.accessToken },
          )
        ).status,
      ).to.equal(204);

      // Bad requests that carry secrets: malformed JSON, an unknown property, a bad bearer token.
      const garbageToken = marker("garbage-bearer-token");
      note("garbage bearer token", garbageToken);
      await api.request("POST", "/auth/login", {
        rawBody: `{"email":"${email}","password":"${newPassword}"`,
        contentType: "application/json",
      });
      await api.post("/auth/login", { email, password: newPassword, extra: newPassword });
      await api.post("/auth/register", { email: "not-an-email", password: newPassword });
      await api.get("/me", { headers: { authorization: `Bearer ${garbageToken}` } });
      await api.get("/me", {
        headers: { authorization: `Basic ${Buffer.from(`${email}:${newPassword}`).toString("base64")}` },
      });
      await api.get("/goals", {
        token: again.body.accessToken,
        headers: { cookie: `session=${garbageToken}` },
      });

      // A webhook: its secret is shown once, and each delivery is signed with it.
      receiver = await startWebhookReceiver();
      const hook = await api.post<{ secret: string }>(
        "/webhooks",
        { url: receiver.url, events: ["goal.completed"] },
        { token: again.body.accessToken },
      );
      expect(hook.status).to.equal(201);
      receiver.secret = hook.body.secret;
      note("webhook secret", hook.body.secret);
      const goal = await api.post<{ id: string }>(
        "/goals",
        { pattern: "target", title: "logs", target: 1, unit: "x", endDate: isoDate(30) },
        { token: again.body.accessToken },
      );
      await api.post(`/goals/${goal.body.id}/activities`, { quantity: 1 }, { token: again.body.accessToken });
      const delivery = await eventually(async () => receiver!.received[0], "the webhook delivery");
      expect(delivery.signatureValid).to.equal(true);
      note("webhook signature", String(delivery.headers["x-webhook-signature"]).replace(/^sha256=/, ""));

      sessions.forEach((session, index) => {
        note(`access token ${index}`, session.accessToken);
        note(`access token ${index} signature`, session.accessToken.split(".")[2]);
        note(`refresh token ${index}`, session.refreshToken);
      });
      note("Authorization header", `Bearer ${again.body.accessToken}`);
      // Give the services a moment to write what they log after answering.
      await new Promise((resolve) => setTimeout(resolve, 1500));
    } finally {
      await receiver?.close();
      await stack?.stop().catch(() => undefined);
      capture.restore();
    }
    output = capture.text() + (await readLogs(logDir));
    await rm(logDir, { recursive: true, force: true });
  });

  it("logged at debug level while it ran (the capture saw the requests)", () => {
    expect(output).to.include("/api/v1/auth/login");
    expect(output).to.include("/api/v1/webhooks");
    expect(Object.keys(secrets).length).to.be.greaterThan(10);
  });

  it("wrote no password, access or refresh token, webhook secret or signature, nor an Authorization value", () => {
    const leaked = Object.entries(secrets)
      .filter(([, value]) => output.includes(value))
      .map(([name]) => name);
    expect(leaked, "secrets found in the logs").to.deep.equal([]);
  });

  it("wrote no password hash", () => {
    expect(output).to.not.match(/\$argon2(id|i|d)\$/);
  });
});
