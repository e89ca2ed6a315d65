import { generateKeyPairSync } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Config } from "../config.ts";

export interface SigningKeys {
  privateKey: string | null;
  publicKey: string;
}

const PRIVATE_FILE = "jwt-private.pem";
const PUBLIC_FILE = "jwt-public.pem";

export function generateKeyPair(): { privateKey: string; publicKey: string } {
  return generateKeyPairSync("ec", {
    namedCurve: "P-256",
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
}

async function readPair(dir: string): Promise<SigningKeys | null> {
  try {
    const [privateKey, publicKey] = await Promise.all([
      readFile(path.join(dir, PRIVATE_FILE), "utf8"),
      readFile(path.join(dir, PUBLIC_FILE), "utf8"),
    ]);
    return { privateKey, publicKey };
  } catch {
    return null;
  }
}

/**
 * Keys from JWT_PRIVATE_KEY / JWT_PUBLIC_KEY when given. Otherwise (never in production: the config
 * refuses to start without them) a development pair generated once into DATA_DIR and reused after.
 */
export async function loadSigningKeys(
  config: Pick<Config, "jwtPrivateKey" | "jwtPublicKey" | "dataDir">,
): Promise<SigningKeys> {
  if (config.jwtPublicKey) return { privateKey: config.jwtPrivateKey, publicKey: config.jwtPublicKey };
  const dir = path.join(config.dataDir, "keys");
  const existing = await readPair(dir);
  if (existing) return existing;
  await mkdir(dir, { recursive: true });
  const pair = generateKeyPair();
  try {
    // `wx`: when two processes race to create the pair, the second one reads the winner's keys.
    await writeFile(path.join(dir, PRIVATE_FILE), pair.privateKey, { flag: "wx", mode: 0o600 });
    await writeFile(path.join(dir, PUBLIC_FILE), pair.publicKey, { flag: "wx" });
    return pair;
  } catch {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const winner = await readPair(dir);
    if (!winner) throw new Error(`cannot create development JWT keys in ${dir}`);
    return winner;
  }
}
