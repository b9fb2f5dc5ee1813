/**
 * The ARM builds of Node 20 under qemu-user that `scripts/setup-arm.sh`
 * prepares in `.arm/` (scripts/setup.sh runs it): the appliance can run on
 * them (appliance.ts `node`) while the peers run natively.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ArmArch = 'arm64' | 'armhf';
export const ARM_DIR = resolve(fileURLToPath(new URL('../../.arm/', import.meta.url)));

/** The `node` wrapper for `arch`, or why there is none (a skip reason). */
export function armNode(arch: ArmArch): { node: string } | { missing: string } {
  const node = resolve(ARM_DIR, arch, 'node');
  if (existsSync(resolve(ARM_DIR, 'ready')) && existsSync(node)) return { node };
  return { missing: `no ARM Node in ${ARM_DIR} (prepare it with scripts/setup-arm.sh; scripts/setup.sh does)` };
}
