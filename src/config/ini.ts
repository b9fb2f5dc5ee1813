/**
 * A tiny ini parser for pbx.ini: `[section]`, `key = value`, full-line
 * comments starting with `;` or `#`, and an inline `;` comment after
 * whitespace. A value in double quotes is taken literally (so a password may
 * hold ` ;`). Keys and sections are case-insensitive. Errors never quote the
 * line: it may hold a password.
 */
export interface IniEntry {
  value: string;
  line: number;
}

export interface IniError {
  line: number;
  message: string;
}

export interface Ini {
  /** section (lowercase) -> key (lowercase) -> entry. Keys before any section go to ''. */
  sections: Map<string, Map<string, IniEntry>>;
  errors: IniError[];
  /** Keys given twice (the last one counts). */
  duplicates: { section: string; key: string; line: number }[];
}

const MAX_LINE = 1000;

export function parseIni(text: string): Ini {
  const ini: Ini = { sections: new Map([['', new Map()]]), errors: [], duplicates: [] };
  let section = '';
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  lines.forEach((raw, i) => {
    const line = i + 1;
    const s = raw.trim();
    if (s === '' || s.startsWith(';') || s.startsWith('#')) return;
    if (raw.length > MAX_LINE) return void ini.errors.push({ line, message: `is longer than ${MAX_LINE} characters` });
    const head = /^\[\s*([A-Za-z0-9_.-]+)\s*\]\s*(?:[;#].*)?$/.exec(s);
    if (head) {
      section = head[1].toLowerCase();
      if (!ini.sections.has(section)) ini.sections.set(section, new Map());
      return;
    }
    const kv = /^([A-Za-z0-9_.-]+)\s*[=:]\s*(.*)$/.exec(s);
    if (!kv) return void ini.errors.push({ line, message: 'should be [section] or key = value' });
    const value = parseValue(kv[2]);
    if (value === undefined) return void ini.errors.push({ line, message: 'has an unterminated "quoted value"' });
    const key = kv[1].toLowerCase();
    const entries = ini.sections.get(section)!;
    if (entries.has(key)) ini.duplicates.push({ section, key, line });
    entries.set(key, { value, line });
  });
  return ini;
}

/** The value part of `key = value`: quoted literally, or up to an inline `;` after whitespace. */
function parseValue(rest: string): string | undefined {
  if (rest.startsWith('"')) {
    const end = rest.indexOf('"', 1);
    if (end < 0) return undefined;
    return rest.slice(1, end);
  }
  const m = /\s;/.exec(rest);
  return (m ? rest.slice(0, m.index) : rest).trim();
}
