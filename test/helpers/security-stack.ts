import http from "node:http";
import { generateKeyPair } from "../../shared/auth/keys.ts";
import { startStack, type Stack, useStack, type StackUnderTest } from "./stack.ts";

/**
 * The signing pair of every security-suite stack, given to it through JWT_PRIVATE_KEY/JWT_PUBLIC_KEY:
 * the suite can then make tokens that differ from a real one in exactly one property (an expired
 * `exp`, another `iss`, …) and prove that the property alone gets them refused.
 */
export const STACK_KEYS = generateKeyPair();

export const SECURITY_ENV: Record<string, string> = {
  JWT_PRIVATE_KEY: STACK_KEYS.privateKey,
  JWT_PUBLIC_KEY: STACK_KEYS.publicKey,
  // The per-user budget is not what these suites test; 429s would only hide the answers they check.
  RATE_LIMIT_PER_MINUTE: "0",
};

export function useSecurityStack(env: Record<string, string> = {}): StackUnderTest {
  return useStack({ ...SECURITY_ENV, ...env });
}

/** Starts a stack whose process output (each service's, on the distributed stack) lands in `logDir`. */
export async function startStackLoggingTo(env: Record<string, string>, logDir: string): Promise<Stack> {
  const previous = process.env.TEST_LOG_DIR;
  process.env.TEST_LOG_DIR = logDir;
  try {
    return await startStack({ ...SECURITY_ENV, ...env });
  } finally {
    if (previous === undefined) delete process.env.TEST_LOG_DIR;
    else process.env.TEST_LOG_DIR = previous;
  }
}

export interface OutputCapture {
  text(): string;
  restore(): void;
}

/** Takes over this process's stdout and stderr (where the embedded stack's console logger writes). */
export function captureOutput(): OutputCapture {
  const chunks: string[] = [];
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      const callback = rest.find((arg) => typeof arg === "function") as (() => void) | undefined;
      callback?.();
      return true;
    }) as typeof stream.write;
  }
  let restored = false;
  return {
    text: () => chunks.join(""),
    restore() {
      if (restored) return;
      restored = true;
      streams.forEach((stream, index) => {
        stream.write = originals[index]!;
      });
    },
  };
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/**
 * A request sent byte for byte as given, with a Content-Length (fetch cannot send a body with GET,
 * nor bytes that are not what the Content-Type says).
 */
export function rawRequest(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: string | Buffer,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(body);
    const request = http.request(
      url,
      {
        method,
        headers: payload ? { ...headers, "content-length": String(payload.length) } : headers,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      },
    );
    request.on("error", reject);
    request.end(payload);
  });
}
