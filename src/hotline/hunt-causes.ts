import type { FailCause } from './hunt-types.js';

/**
 * The hunt's view of a final non-2xx response to a technician's INVITE
 * (RFC 3261 §21). All three causes move the hunt on at once; the
 * distinction is for the log and for what may come next (e.g. a busy
 * technician might be retried sooner than an unreachable one).
 */
export function failCauseOf(status: number): FailCause {
  switch (status) {
    case 486: // Busy Here §21.4.24
    case 600: // Busy Everywhere §21.6.1
      return 'busy';
    case 603: // Decline §21.6.2: the person refused
    case 403: // Forbidden §21.4.4: the PBX refused this call
    case 606: // Not Acceptable §21.6.4
    case 488: // Not Acceptable Here §21.4.26: no common codec
      return 'rejected';
    case 404: // Not Found §21.4.5
    case 408: // Request Timeout §21.4.9 (also our Timer B, §17.1.1.2)
    case 410: // Gone §21.4.10
    case 480: // Temporarily Unavailable §21.4.18: not registered, DND
    case 484: // Address Incomplete §21.4.22
    case 604: // Does Not Exist Anywhere §21.6.3
      return 'unreachable';
  }
  // Redirects not followed, 5xx server trouble, anything unknown: the phone
  // cannot be reached. Other 4xx/6xx: the request was refused.
  if (status >= 400 && status < 500) return 'rejected';
  if (status >= 600 && status < 700) return 'rejected';
  return 'unreachable';
}
