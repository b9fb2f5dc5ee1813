// A temp copy of the example card (flash-layout/CF0) for one test, removed in teardown.
import { cpSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const EXAMPLE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'flash-layout', 'CF0');

export interface TempCard {
  /** The TicketSMS folder. */
  dir: string;
  write(rel: string, content: string | Buffer): void;
  remove(rel: string): void;
}

export function tempCard(t: { teardown(fn: () => void): void }): TempCard {
  const root = mkdtempSync(join(tmpdir(), 'ticketline-card-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  cpSync(EXAMPLE, join(root, 'CF0'), { recursive: true });
  const dir = join(root, 'CF0', 'TicketSMS');
  return {
    dir,
    write: (rel, content) => {
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      writeFileSync(join(dir, rel), content);
    },
    remove: (rel) => rmSync(join(dir, rel), { recursive: true, force: true }),
  };
}
