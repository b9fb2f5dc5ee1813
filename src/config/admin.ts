/**
 * Admin/ (issue 13 "watchful"): who is told when the appliance cannot take
 * an emergency call (not registered, card not writable, clock not set, SMS
 * not delivered, a crash). Like a technician folder: `Extension.txt` for the
 * IM (SIP MESSAGE through the PBX), `SMSNumber.txt` (+ `SMSUser.txt`,
 * `SMSPassword.txt`) for the SMS. No Admin/ = alerts only in the log.
 */
import { TxtReader, parseExtension, parseSmsNumber, type Parsed } from './txt-value.js';

export interface Admin {
  /** Extension.txt: the IM goes there, From the box's own number. */
  ext?: string;
  sms?: { number: string; user?: string; password?: string };
}

export const ADMIN_DIR = 'Admin';

function parseCredential(v: string): Parsed<string> {
  return /^[^\x00-\x1f]{1,200}$/.test(v) ? { ok: true, value: v } : { ok: false, should: 'the value the SMS provider gave (one line)' };
}

/** Admin/ of the card; undefined when the folder is missing or names nobody (a wrong file drops only that setting). */
export async function readAdmin(r: TxtReader): Promise<Admin | undefined> {
  const real = await r.resolve(ADMIN_DIR);
  if (real === undefined) return undefined;
  const ext = await r.optional<string | undefined>(`${real}/Extension.txt`, parseExtension, undefined);
  const number = await r.optional<string | undefined>(`${real}/SMSNumber.txt`, parseSmsNumber, undefined);
  const user = await r.optional<string | undefined>(`${real}/SMSUser.txt`, parseCredential, undefined);
  const password = await r.optional<string | undefined>(`${real}/SMSPassword.txt`, parseCredential, undefined, true);
  const admin: Admin = {};
  if (ext !== undefined) admin.ext = ext;
  if (number !== undefined) {
    admin.sms = { number };
    if (user !== undefined) admin.sms.user = user;
    if (password !== undefined) admin.sms.password = password;
  }
  if (admin.ext === undefined && admin.sms === undefined) {
    r.problem(`${real}/`, 'names nobody: should hold Extension.txt (IM) or SMSNumber.txt (SMS); alerts go only to the log', true);
    return undefined;
  }
  return admin;
}
