/**
 * Identifiers from `crypto` (RFC 3261 §8.1.1.4 Call-ID, §19.3 tags,
 * §8.1.1.7 branch with the magic cookie).
 */
import { randomBytes } from 'node:crypto';

/** RFC 3261 §8.1.1.7: the branch begins with the magic cookie z9hG4bK. */
export const MAGIC_COOKIE = 'z9hG4bK';

export function newBranch(): string {
  return MAGIC_COOKIE + randomBytes(12).toString('hex');
}

/** §19.3: at least 32 bits of randomness. */
export function newTag(): string {
  return randomBytes(8).toString('hex');
}

export function newCallId(host: string): string {
  return `${randomBytes(16).toString('hex')}@${host}`;
}

/** Client nonce for digest qop=auth (RFC 2617 §3.2.2). */
export function newCnonce(): string {
  return randomBytes(8).toString('hex');
}
