/**
 * Prints a fresh ES256 key pair as .env lines for docker-compose: `node scripts/dev-keys.ts > .env`.
 * For local stacks only: production keys come from the platform's secret store.
 */
import { generateKeyPair } from "../shared/auth/keys.ts";

const { privateKey, publicKey } = generateKeyPair();
console.log(`JWT_PRIVATE_KEY="${privateKey.trim()}"`);
console.log(`JWT_PUBLIC_KEY="${publicKey.trim()}"`);
