/**
 * Times as text: the log's UTC stamps and the zero-padded fields of the
 * local-time names on the card (tickets, recordings).
 */

/** `n` in decimal, zero-padded to `width` digits. */
export function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/**
 * `Date.prototype.toISOString` without its cost: Node 20's V8 looks up the
 * local time zone's display name for it, which maps ~1 MB of ICU data into
 * an otherwise idle appliance. Same output, from the UTC fields alone.
 */
export function isoTime(d: Date): string {
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}Z`;
}
