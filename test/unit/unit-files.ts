// Helpers for tests of rendered systemd units: their [Service] settings, and their exposure by
// `systemd-analyze security --offline` (read with the audit's own parser, src/audit/checks-units.ts).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/build/proc.js';
import { parseExposure } from '../../src/audit/checks-units.js';

export const setupHint = (tool: string) => `${tool} is needed by this test: run \`bash scripts/setup\` (as root) to install it`;

/** Settings of the [Service] section as key → values (repeatable keys keep every value). */
export function serviceSettings(unit: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let section = '';
  for (const line of unit.split('\n')) {
    if (/^\[.*\]$/.test(line)) section = line;
    else if (section === '[Service]' && /^[A-Za-z]+=/.test(line)) {
      const i = line.indexOf('=');
      out.set(line.slice(0, i), [...(out.get(line.slice(0, i)) ?? []), line.slice(i + 1)]);
    }
  }
  return out;
}

/** `systemd-analyze security --offline` on a unit in a temporary root (systemd ≥ 250, which scripts/setup installs). */
export async function offlineExposure(unitName: string, unit: string): Promise<number> {
  const version = await run('systemd-analyze', ['--version'], { timeoutMs: 10_000, missingHint: setupHint('systemd-analyze (systemd)') });
  const m = /systemd (\d+)/.exec(version.stdout);
  if (!m || Number(m[1]) < 250) throw new Error(`systemd-analyze ${m?.[1] ?? '?'} has no --offline (needs systemd >= 250, Debian 12+): ${setupHint('systemd-analyze')}`);
  const root = await mkdtemp(join(tmpdir(), 'bulwark-unit-'));
  try {
    await mkdir(join(root, 'etc/systemd/system'), { recursive: true });
    await writeFile(join(root, 'etc/systemd/system', unitName), unit);
    const r = await run('systemd-analyze', ['security', '--offline=yes', `--root=${root}`, '--no-pager', unitName], { allowFail: true, timeoutMs: 30_000, env: { ...process.env, SYSTEMD_COLORS: '0' } });
    const level = parseExposure(r.stdout);
    if (level === null) throw new Error(`systemd-analyze gave no exposure level (exit ${r.code}): ${r.stderr || r.stdout}`);
    return level;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
