/**
 * Digest retry (RFC 3261 §22.2, §22.3; RFC 2617 / RFC 8760 via digest.ts):
 * answers a 401/407 with Authorization / Proxy-Authorization. The nonce
 * count increments per nonce; the cnonce is random. One retry per
 * challenge unless the server says stale=true, so no request loops.
 */
import type { SipRequest, SipResponse } from './message.js';
import { chooseChallenge, digestAuthorization } from './digest.js';
import { formatUri } from './uri.js';
import { newCnonce } from './ids.js';
import { errText, type Logger } from '../util/log.js';

export type CredentialLookup = (realm: string) => { username: string; password: string } | undefined;

/** Per request: what was already answered (so the same challenge is not answered twice). */
export class AuthAttempt {
  readonly answered = new Set<string>();
  staleRetries = 0;
}

const MAX_STALE_RETRIES = 2;
/** Bound the nonce table: one entry per nonce, oldest dropped first. */
const MAX_NONCES = 64;

export class AuthSession {
  private readonly nonceCounts = new Map<string, number>();

  constructor(
    private readonly credentials: CredentialLookup | undefined,
    private readonly log: Logger,
  ) {}

  /**
   * Headers to add to the retry of `req` after the challenge in `res`, or
   * undefined when no retry is due (no credentials, challenge already
   * answered and not stale, unparsable challenge).
   */
  authorize(req: SipRequest, res: SipResponse, attempt: AuthAttempt): Array<[string, string]> | undefined {
    if (!this.credentials) return undefined;
    const proxy = res.status === 407;
    // RFC 8760 §2.4: several challenges may be offered; take the strongest we support.
    const challenge = chooseChallenge(res.headers.getAll(proxy ? 'proxy-authenticate' : 'www-authenticate'));
    if (!challenge) {
      this.log.warn(`digest: ${res.status} to ${req.method} carries no challenge we support`);
      return undefined;
    }
    const key = `${proxy ? 'proxy' : 'www'}:${challenge.realm}`;
    if (attempt.answered.has(key)) {
      // §22.2: a second challenge for the same realm means the credentials were refused, unless stale.
      if (!challenge.stale || attempt.staleRetries >= MAX_STALE_RETRIES) {
        this.log.warn(`digest: ${req.method} refused by realm "${challenge.realm}" (credentials rejected)`);
        return undefined;
      }
      attempt.staleRetries++;
    }
    const cred = this.credentials(challenge.realm);
    if (!cred) {
      this.log.warn(`digest: no credentials for realm "${challenge.realm}"`);
      return undefined;
    }
    attempt.answered.add(key);
    try {
      const value = digestAuthorization({
        challenge,
        method: req.method,
        uri: formatUri(req.uri),
        username: cred.username,
        password: cred.password,
        nc: this.nextCount(challenge.nonce),
        cnonce: newCnonce(),
      });
      return [[proxy ? 'proxy-authorization' : 'authorization', value]];
    } catch (e) {
      this.log.warn(`digest: cannot answer challenge of realm "${challenge.realm}": ${errText(e)}`);
      return undefined;
    }
  }

  private nextCount(nonce: string): number {
    const n = (this.nonceCounts.get(nonce) ?? 0) + 1;
    this.nonceCounts.delete(nonce);
    this.nonceCounts.set(nonce, n);
    if (this.nonceCounts.size > MAX_NONCES) {
      const oldest = this.nonceCounts.keys().next().value;
      if (oldest !== undefined) this.nonceCounts.delete(oldest);
    }
    return n;
  }
}
