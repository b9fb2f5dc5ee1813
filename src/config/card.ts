/**
 * The card (DESIGN.md "The card"): reads the whole TicketSMS folder into a
 * CardConfig and lists every problem.
 *
 * What a problem costs:
 * - XMLnumber.txt, First.txt, pbx.ini, SMSProvider.txt, SMSprefix.txt,
 *   CFU.txt, Recording.txt: the card is unusable (config undefined); the
 *   running appliance keeps its last good configuration.
 * - Timeout.txt, ProceedKey.txt, Tries.txt, AcceptKey.txt, AcceptSeconds.txt,
 *   Rounds.txt, RetryPause.txt, MessageSeconds.txt, TrunkPrefix.txt: the
 *   default is used.
 * - A technician's file: just that setting is dropped (a broken Fork.txt
 *   must not take the technician out of an emergency ring).
 * - The CFU target: falls back to First.txt. A prompt: reported; the media
 *   layer plays what it can.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { readAdmin, type Admin } from './admin.js';
import { parsePbxIni, PBX_INI, type PbxConfig } from './pbx-ini.js';
import { readTechnicians, linkTechnicians, type Technician } from './technicians.js';
import {
  TxtReader, parseExtension, parseInteger, parseKey, parseNationalPrefix, parseObjectName, parseProvider, parseSeconds, parseTrunkPrefix,
  type Parsed, type Problem, type SmsProviderName,
} from './txt-value.js';
import { checkPromptFile } from './wav-check.js';

export type { Problem } from './txt-value.js';
export type { Technician } from './technicians.js';
export type { PbxConfig } from './pbx-ini.js';
export type { Admin } from './admin.js';

export interface Prompts {
  /** Ends with "Press"; the digit prompt of ProceedKey.txt follows (hotline/spoken.ts). */
  announcement: string;
  /** The goodbye after no key was pressed in the waiting queue. */
  goodbye: string;
  cfuSet: string;
  cfuCleared: string;
  error: string;
  /** To a technician with an accept key: "Emergency call from" <digits> "Press" <key> "to accept." */
  callFrom: string;
  pressKey: string;
  toAccept: string;
  /** One prompt per key '0'..'9', '*', '#'. */
  digits: Record<string, string>;
  /** "All technicians are busy. Please hold." */
  hold: string;
  /** "Nobody could be reached. Please leave a message after the tone; ..." */
  message: string;
  /** The goodbye after a message was recorded. */
  goodbyeMessage: string;
}

export interface CardConfig {
  /** The TicketSMS folder, absolute. */
  dir: string;
  xmlNumber: string;
  /** The key that proceeds from the waiting queue to the hunt. */
  proceedKey: string;
  /** How often the announcement plays before goodbye. */
  tries: number;
  /** MaxWaiting.txt: calls at most in the waiting queue (not yet keyed); more get 486 (hotline/admission.ts). */
  maxWaiting: number;
  smsProvider: SmsProviderName;
  /**
   * TrunkPrefix.txt: put before a caller number that arrives without it, so
   * the IM, the SMS and the ticket carry a number to call back
   * (hotline/caller-id.ts dialableCaller). Undefined: numbers are kept as they come.
   */
  trunkPrefix?: string;
  /** National prefix put before each SMSNumber; '' when blank with the LOG provider. */
  smsPrefix: string;
  cfuName: string;
  /** The technician the CFU object forwards to; undefined: First.txt is in charge. */
  cfuTarget?: string;
  first: string;
  /** Default no-answer timeout (CFNR), seconds. */
  timeoutSec: number;
  /**
   * AcceptKey.txt: the key a technician presses to take the call; undefined
   * (blank or missing) = off, any answer connects (the seed's behaviour).
   * Each Technician.acceptKey holds the effective key (its own file wins).
   */
  acceptKey?: string;
  /** AcceptSeconds.txt: how long an answered leg may take to press the accept key. */
  acceptSec: number;
  /** Rounds.txt: at most this many rounds of a looping chain; undefined = no cap (the seed's). */
  rounds?: number;
  /** RetryPause.txt: seconds the caller holds after a round in which every leg failed at once. */
  retryPauseSec: number;
  /** MessageSeconds.txt: the longest message the caller may leave. */
  messageSec: number;
  technicians: ReadonlyMap<string, Technician>;
  pbx: PbxConfig;
  /** Absolute paths. */
  prompts: Prompts;
  recordingDir: string;
  ticketDir: string;
  outboxDir: string;
  /**
   * Changes whenever a file in the SMS provider's own folder (e.g. HTTP/,
   * KANNEL/) changes: those settings are read by the provider, not here, so
   * this is how a `change` event tells it to rebuild. Holds no secret.
   */
  smsSettingsStamp?: string;
  /** Admin/: who gets the health alerts (IM and/or SMS); undefined = alerts only in the log. */
  admin?: Admin;
}

/** The keys a digit prompt exists for, in order. */
export const KEYS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#'] as const;

/** digit-0.wav ... digit-9.wav, digit-star.wav, digit-hash.wav. */
function digitFiles(): Record<string, string> {
  const names: Record<string, string> = {};
  for (const k of KEYS) names[k] = `digit-${k === '*' ? 'star' : k === '#' ? 'hash' : k}.wav`;
  return names;
}

/** Prompt files in the application folder (8 kHz mono 16-bit PCM WAV). */
export const PROMPT_FILES: Readonly<Prompts> = {
  announcement: 'announcement.wav',
  goodbye: 'goodbye.wav',
  cfuSet: 'cfu-set.wav',
  cfuCleared: 'cfu-cleared.wav',
  error: 'error.wav',
  callFrom: 'call-from.wav',
  pressKey: 'press.wav',
  toAccept: 'to-accept.wav',
  digits: digitFiles(),
  hold: 'hold.wav',
  message: 'message.wav',
  goodbyeMessage: 'goodbye-message.wav',
};

export const DEFAULTS = {
  timeoutSec: 20, proceedKey: '1', tries: 3, provider: 'LOG', recording: '../TED_RECORDING', cfuName: 'TED_CFU',
  acceptSec: 15, retryPauseSec: 10, messageSec: 120, maxWaiting: 10,
} as const;

/** Read and validate the card in `dir` (the TicketSMS folder). */
export async function loadCard(dir: string): Promise<{ config?: CardConfig; problems: Problem[] }> {
  const root = resolve(dir);
  try {
    await readdir(root);
  } catch (e) {
    return { problems: [{ file: '.', message: `the card folder ${root} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})` }] };
  }
  const r = new TxtReader(root);
  const app = await readAppFiles(r);
  const pbx = await readPbx(r);
  const hunt = await readHuntFiles(r);
  const technicians = await readTechnicians(r, app.timeoutSec, app.cfuName, hunt.acceptKey);
  linkTechnicians(r, technicians);
  const first = app.first !== undefined && known(r, technicians, 'First.txt', app.first) ? app.first : undefined;
  const cfuTarget = app.cfuName !== undefined ? await readCfuTarget(r, app.cfuName, technicians) : undefined;
  const prompts = await readPrompts(r);
  const dirs = await readDirs(r);
  const admin = await readAdmin(r);
  const smsSettingsStamp = app.smsProvider ? await folderStamp(r, app.smsProvider) : '';
  const { xmlNumber, smsProvider, smsPrefix, cfuName } = app;
  if (xmlNumber === undefined || first === undefined || pbx === undefined || smsProvider === undefined || smsPrefix === undefined
    || cfuName === undefined || dirs === undefined) {
    return { problems: r.problems };
  }
  const config: CardConfig = {
    dir: root, xmlNumber, proceedKey: app.proceedKey, tries: app.tries, maxWaiting: app.maxWaiting, smsProvider, smsPrefix, cfuName, cfuTarget, first,
    timeoutSec: app.timeoutSec, technicians, pbx, prompts, ...dirs,
    acceptSec: hunt.acceptSec, retryPauseSec: hunt.retryPauseSec, messageSec: hunt.messageSec,
  };
  if (hunt.acceptKey !== undefined) config.acceptKey = hunt.acceptKey;
  if (hunt.rounds !== undefined) config.rounds = hunt.rounds;
  if (app.trunkPrefix !== undefined) config.trunkPrefix = app.trunkPrefix;
  if (smsSettingsStamp) config.smsSettingsStamp = smsSettingsStamp;
  if (admin) config.admin = admin;
  return { config, problems: r.problems };
}

async function readAppFiles(r: TxtReader) {
  const xmlNumber = await r.required('XMLnumber.txt', parseExtension);
  // SMSProvider.txt: LOG when missing, so the appliance works with no SMS account.
  const smsProvider = await r.defaulted<SmsProviderName>('SMSProvider.txt', parseProvider, DEFAULTS.provider);
  // SMSprefix.txt: put before each technician's SMSNumber.txt; not needed by LOG.
  const smsPrefix = smsProvider === 'LOG'
    ? await r.defaulted('SMSprefix.txt', parseNationalPrefix, '')
    : await r.required('SMSprefix.txt', parseNationalPrefix);
  // CFU.txt: the name (not number) of the CFU object; its folder holds Target.txt.
  const cfuName = await r.defaulted('CFU.txt', parseObjectName, DEFAULTS.cfuName);
  const first = await r.required('First.txt', parseExtension);
  // Timeout.txt: default CFNR for technicians without their own.
  const timeoutSec = await r.optional('Timeout.txt', parseSeconds, DEFAULTS.timeoutSec);
  // ProceedKey.txt: the key a caller presses in the waiting queue (default 1).
  const proceedKey = await r.optional('ProceedKey.txt', parseKey, DEFAULTS.proceedKey);
  // Tries.txt: announcement plays before goodbye when no key is pressed.
  const tries = await r.optional('Tries.txt', (v) => parseInteger(v, 1, 10, 'how often the announcement plays'), DEFAULTS.tries);
  // MaxWaiting.txt: callers at most in the waiting queue at once (issue 16). Default 10: a small
  // company's hotline rarely has more than a few callers at once, even in a real outage; a flood
  // then holds at most 10 RTP ports and the memory of 10 calls.
  const maxWaiting = await r.optional('MaxWaiting.txt', (v) => parseInteger(v, 1, 200, 'how many callers may wait for the proceed key at once'), DEFAULTS.maxWaiting);
  // TrunkPrefix.txt: blank or missing = caller numbers are kept as the PBX gives them.
  const trunkPrefix = await r.optional<string | undefined>('TrunkPrefix.txt', parseTrunkPrefix, undefined);
  return { xmlNumber, smsProvider, smsPrefix, cfuName, first, timeoutSec, proceedKey, tries, maxWaiting, trunkPrefix };
}

/** The settings of issue 10's hunt: accept key, rounds, pauses. A wrong value gives the default. */
async function readHuntFiles(r: TxtReader) {
  // AcceptKey.txt: blank or missing = off, any answer connects (seed).
  const acceptKey = await r.optional<string | undefined>('AcceptKey.txt', parseKey, undefined);
  // AcceptSeconds.txt: how long the accept prompt waits for the key (default 15).
  const acceptSec = await r.optional('AcceptSeconds.txt', (v) => parseInteger(v, 1, 120, 'seconds to wait for the accept key'), DEFAULTS.acceptSec);
  // Rounds.txt: blank or missing = ring round after round as the seed's CFNR loop did.
  const rounds = await r.optional<number | undefined>('Rounds.txt', (v) => parseInteger(v, 1, 100, 'how many rounds of the chain to ring'), undefined);
  // RetryPause.txt: the hold after a round where everyone was busy (default 10).
  const retryPauseSec = await r.optional('RetryPause.txt', (v) => parseInteger(v, 1, 600, 'seconds the caller holds before the next round'), DEFAULTS.retryPauseSec);
  // MessageSeconds.txt: the longest message (default 120).
  const messageSec = await r.optional('MessageSeconds.txt', (v) => parseInteger(v, 5, 600, 'the longest message in seconds'), DEFAULTS.messageSec);
  return { acceptKey, acceptSec, rounds, retryPauseSec, messageSec };
}

async function readPbx(r: TxtReader): Promise<PbxConfig | undefined> {
  if ((await r.resolve(PBX_INI)) === undefined) {
    r.problem(PBX_INI, 'is missing: should say how to reach the PBX ([sip] listen, pbx, register, ...; see README.txt)');
    return undefined;
  }
  const text = await r.readText(PBX_INI, 65536, 'a few lines of settings');
  if (text === undefined) return undefined;
  const { config, problems } = parsePbxIni(text);
  r.problems.push(...problems);
  return config;
}

function known(r: TxtReader, technicians: ReadonlyMap<string, Technician>, file: string, ext: string): boolean {
  if (technicians.has(ext)) return true;
  r.problem(file, `names ${ext}, which is not a technician on the card: should name a folder holding Next.txt, Fork.txt or SMSNumber.txt`);
  return false;
}

async function readCfuTarget(r: TxtReader, cfuName: string, technicians: ReadonlyMap<string, Technician>): Promise<string | undefined> {
  const file = `${cfuName}/Target.txt`;
  const target = await r.optional<string | undefined>(file, parseExtension, undefined);
  return target !== undefined && known(r, technicians, file, target) ? target : undefined;
}

async function readPrompts(r: TxtReader): Promise<Prompts> {
  const out: Prompts = { ...PROMPT_FILES, digits: { ...PROMPT_FILES.digits } };
  for (const key of Object.keys(PROMPT_FILES) as (keyof Prompts)[]) {
    if (key === 'digits') continue;
    out[key] = await readPrompt(r, PROMPT_FILES[key]);
  }
  for (const k of KEYS) out.digits[k] = await readPrompt(r, PROMPT_FILES.digits[k]);
  return out;
}

/** The absolute path of prompt `name`; a missing or wrong one is a problem (the media layer plays a tone instead). */
async function readPrompt(r: TxtReader, name: string): Promise<string> {
  const path = join(r.root, (await r.resolve(name)) ?? name);
  const wrong = await checkPromptFile(path);
  if (wrong) r.problem(name, `${wrong}: should be an 8 kHz mono 16-bit PCM WAV (sox IN.wav -r 8000 -c 1 -b 16 ${name})`);
  return path;
}

async function readDirs(r: TxtReader): Promise<Pick<CardConfig, 'recordingDir' | 'ticketDir' | 'outboxDir'> | undefined> {
  // Recording.txt: where recordings go, relative to the application folder (default ../TED_RECORDING).
  const recording = await r.defaulted<string>('Recording.txt', parseFolder, DEFAULTS.recording);
  if (recording === undefined) return undefined;
  return {
    recordingDir: resolve(r.root, recording),
    ticketDir: join(r.root, (await r.resolve('Ticket')) ?? 'Ticket'),
    outboxDir: join(r.root, (await r.resolve('Outbox')) ?? 'Outbox'),
  };
}

/** A hash of the names and contents of the files in `folder` (first 4 KB each, at most 32 files). */
async function folderStamp(r: TxtReader, folder: string): Promise<string> {
  const real = await r.resolve(folder);
  if (real === undefined) return '';
  const hash = createHash('sha256');
  const names = [...(await r.listing(real)).values()].sort().slice(0, 32);
  for (const name of names) {
    const text = await readFile(join(r.root, real, name)).then((b) => b.subarray(0, 4096), () => Buffer.alloc(0));
    hash.update(`${name}\u0000${text.length}\u0000`).update(text);
  }
  return hash.digest('hex').slice(0, 16);
}

function parseFolder(v: string): Parsed<string> {
  return /^[^\x00-\x1f]{1,200}$/.test(v) ? { ok: true, value: v } : { ok: false, should: 'a folder path, e.g. ../TED_RECORDING' };
}

/**
 * Point the CFU object at `ext` (undefined clears it: First.txt is in
 * charge again). Atomic, so a power cut leaves the old or the new target.
 */
export async function setCfuTarget(config: CardConfig, ext: string | undefined): Promise<void> {
  if (ext !== undefined && !parseExtension(ext).ok) throw new Error(`CFU target ${JSON.stringify(ext)} is not an extension`);
  const r = new TxtReader(config.dir);
  const folder = join(config.dir, (await r.resolve(config.cfuName)) ?? config.cfuName);
  await mkdir(folder, { recursive: true });
  const real = (await r.resolve(`${config.cfuName}/Target.txt`))?.split('/')[1] ?? 'Target.txt';
  await writeFileAtomic(join(folder, real), ext === undefined ? '' : `${ext}\n`);
}
