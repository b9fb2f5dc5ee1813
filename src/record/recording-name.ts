/** Where a call's recording lives on the card, and its name. */
import { dirname, join, resolve } from 'node:path';
import { pad } from '../util/time-format.js';

/** At most this many ticket numbers in a name (FAT: 255 characters); beyond, the first ones and the last. */
export const MAX_NAMED_TICKETS = 24;

/**
 * `YYYY-MM-DD_HH.MM.SS[_Ticket_<t1>_<t2>..._<tn>]_Caller_<number>.pcap` in
 * local time: sorts by time, and every ticket number of the call is in the
 * name between underscores, so the number in any IM, SMS or ticket file of
 * the call finds it (`ls TED_RECORDING/*_1236_*`). Without tickets (at the
 * key press, before the first number is stored) the name has none.
 * `caller` must be sanitized already; anything but [0-9A-Za-z+#] is dropped.
 */
export function recordingName(start: Date, tickets: readonly number[], caller: string): string {
  const d = `${start.getFullYear()}-${pad(start.getMonth() + 1)}-${pad(start.getDate())}`;
  const t = `${pad(start.getHours())}.${pad(start.getMinutes())}.${pad(start.getSeconds())}`;
  const nums = tickets.length > MAX_NAMED_TICKETS ? [...tickets.slice(0, MAX_NAMED_TICKETS - 1), tickets[tickets.length - 1]] : tickets;
  const tk = nums.length ? `_Ticket_${nums.join('_')}` : '';
  return `${d}_${t}${tk}_Caller_${caller.replace(/[^0-9A-Za-z+#]/g, '') || 'anonymous'}.pcap`;
}

/**
 * The default recording folder: `TED_RECORDING/` beside the application
 * folder (CF0/TicketSMS -> CF0/TED_RECORDING), as on the original card.
 */
export function defaultRecordingDir(appDir: string): string {
  return join(dirname(resolve(appDir)), 'TED_RECORDING');
}

