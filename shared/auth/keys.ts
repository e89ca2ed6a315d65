import { generateKeyPairSync } from "node:crypto";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
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
  await mkdir(config.dataDir, { recursive: true });
  // Both files are written into a fresh folder that is then renamed into place: a crash never leaves
  // half a pair, and when two processes race, the rename of the second fails and it reads the first's.
  const staging = await mkdtemp(path.join(config.dataDir, "keys-"));
  const pair = generateKeyPair();
  await writeFile(path.join(staging, PRIVATE_FILE), pair.privateKey, { mode: 0o600 });
  await writeFile(path.join(staging, PUBLIC_FILE), pair.publicKey);
  try {
    await rename(staging, dir);
    return pair;
  } catch {
    const winner = await readPair(dir);
    if (winner) {
      await rm(staging, { recursive: true, force: true });
      return winner;
    }
    // A folder holding half a pair: set it aside (never delete a key) and put the new pair in place.
    await rename(dir, `${dir}-incomplete-${Date.now()}`);
    await rename(staging, dir);
    return pair;
  }
}
