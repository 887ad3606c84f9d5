// bulwark outdated [dir]: SECURITY-CHECKS E4. The lock against the archive as it is now: which
// images need a rebuild, and why. Exit 1 means "rebuild", 3 "could not check" (for cron jobs).
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from './main.js';
import { parseCommandArgs, useColor } from './args.js';
import { loadSuiteIndex, suiteSources, type DebPackage } from '../lock/archive.js';
import { readLock } from '../lock/lockfile.js';
import { findOutdated, rebuildsByApp, type OutdatedEntry } from '../lock/outdated.js';
import { fetchNpmAdvisories, matchAdvisories, mergeQueries, npmAdvisoryEndpoint, npmAdvisoryQuery, type NpmAdvisory, type NpmAdvisoryQuery } from '../lock/advisories.js';
import { LOCK_FILE, type BulwarkLock } from '../lock/types.js';
import { BulwarkError, envError, usageError } from '../types.js';

const help = `bulwark outdated [DIR] [options]

Check bulwark.lock against the Debian archive as it is now (SECURITY-CHECKS E4): every locked
package with a newer version in <suite>-security or <suite>-updates, the layers that hold it,
and the apps whose images therefore need a rebuild. For each Node app with a package-lock.json,
also ask the npm registry for advisories on its locked production dependencies (as \`npm audit\`
does). Nothing is changed: the lock, the images and the build dir stay as they are.

  DIR          the folder holding bulwark.lock (default: the current folder)

Options:
  --json       print one JSON object on stdout:
               {schemaVersion: 1, lock, outdated: [{package, source, locked, available, suite,
               layers, apps}], npmAdvisories: {checked, reason?, advisories: [{app, package,
               version, id, severity, title, url}]}}
  -h, --help   show this help

The -security index is read from the lock's securityMirror and -updates from its mirror; both
are checked against Debian's archive keyring, as \`bulwark lock\` does. The npm check is best
effort: when the registry does not answer within 15 s the report says so
(npmAdvisories.checked: false) and the Debian check alone decides the exit code.

Output: a table (package, locked → available, suite, layers, apps), the apps to rebuild, the npm
advisories, then one summary line.

Environment:
  BULWARK_NPM_REGISTRY  npm registry base URL for advisories (default https://registry.npmjs.org)
  NO_COLOR              no colour

Exit codes: 0 nothing outdated and no npm advisory; 1 a package is outdated or an npm advisory
applies; 2 usage error, no bulwark.lock, or one Bulwark cannot read; 3 the Debian archive cannot
be reached or fails its signature check (so a cron job can tell "rebuild" from "could not check").

Examples:
  bulwark outdated
  bulwark outdated examples/express-hello --json
  bulwark outdated; [ $? -eq 1 ] && bulwark lock --update --security-only && bulwark build
`;

interface NpmReport {
  checked: boolean;
  reason?: string;
  /** Apps whose package-lock.json was read. */
  apps: string[];
  advisories: NpmAdvisory[];
  notes: string[];
}

/** `outdated DIR` or `outdated DIR/bulwark.lock`. */
function lockDir(arg: string): string {
  if (!existsSync(arg)) throw usageError(`no such folder ${arg}`);
  if (statSync(arg).isFile()) {
    if (basename(arg) === LOCK_FILE) return dirname(arg);
    throw usageError(`outdated: ${arg} is a file; pass the folder holding ${LOCK_FILE}`);
  }
  return arg;
}

/** readLock checks the version and top-level keys; this checks what outdated walks, so a damaged lock is exit 2, not a crash. */
function checkShape(lock: BulwarkLock, file: string): void {
  const bad = (what: string) => usageError(`${file}: ${what}; run \`bulwark lock --update\` to rewrite it`);
  const isObj = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  for (const k of ['packages', 'layers', 'apps'] as const) if (!isObj(lock[k])) throw bad(`"${k}" is not an object`);
  for (const k of ['suite', 'mirror', 'securityMirror'] as const) if (typeof lock[k] !== 'string' || !lock[k]) throw bad(`"${k}" is not a string`);
  for (const [n, p] of Object.entries(lock.packages)) if (!isObj(p) || typeof p.version !== 'string' || typeof p.arch !== 'string') throw bad(`package ${n} has no version or arch`);
  for (const [n, l] of Object.entries(lock.layers)) if (!isObj(l) || !Array.isArray(l.packages)) throw bad(`layer ${n} has no packages list`);
  for (const [n, a] of Object.entries(lock.apps)) if (!isObj(a) || !Array.isArray(a.layers)) throw bad(`app ${n} has no layers list`);
}

/** The current -security and -updates indexes (security first: it wins a tie), for every arch the lock uses. */
async function loadIndexes(lock: BulwarkLock, file: string, progress: (s: string) => void): Promise<DebPackage[][]> {
  const archs = [...new Set(Object.values(lock.packages).map((p) => p.arch))].filter((a) => a !== 'all').sort();
  if (!archs.length) archs.push('amd64');
  const sources = suiteSources(lock.suite, lock.mirror, lock.securityMirror)
    .filter((s) => s.suite !== lock.suite)
    .map((s) => (s.suite.endsWith('-security') ? { ...s, what: 'Debian security mirror', field: 'securityMirror' } : { ...s, what: 'Debian mirror', field: 'mirror' }))
    .sort((a, b) => (a.field === 'securityMirror' ? -1 : 0) - (b.field === 'securityMirror' ? -1 : 0));
  const results = await Promise.allSettled(
    sources.map(async (s) => {
      progress(`reading ${s.suite} from ${s.baseUrl} …`);
      return (await Promise.all(archs.map((a) => loadSuiteIndex(s.baseUrl, s.suite, a)))).flat();
    }),
  );
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ src: sources[i]!, err: r.reason as unknown }] : []));
  for (const f of failed) if (!(f.err instanceof BulwarkError)) throw f.err; // a bug, not the mirror
  if (failed.length) {
    const first = failed[0]!;
    const err = first.err as BulwarkError;
    // httpGet's "cannot reach the Debian mirror for X (URL): cause; check … --mirror" → "URL: cause".
    const msg = err.message.replace(/; check (the network or pass --mirror URL|--mirror)$/, '');
    const detail = msg.match(/^cannot reach the Debian mirror for .+? \((\S+)\): (.*)$/)?.slice(1).join(': ') ?? msg;
    const reached = err.exitCode === 3;
    const which = failed.map((f) => `the ${f.src.what} ${f.src.baseUrl} (${f.src.suite})`).join(' nor ');
    const fields = failed.map((f) => `"${f.src.field}"`).join(' and ');
    throw envError(`${reached ? 'cannot reach' : 'cannot use'} ${which}: ${detail}; check the network, or ${fields} in ${file}`);
  }
  return results.map((r) => (r as PromiseFulfilledResult<DebPackage[]>).value);
}

/** npm advisories for every app locked with a package-lock.json. Never throws: problems become `reason`. */
async function checkNpm(dir: string, lock: BulwarkLock): Promise<NpmReport> {
  const report: NpmReport = { checked: true, apps: [], advisories: [], notes: [] };
  const problems: string[] = [];
  const queries: Array<{ app: string; query: NpmAdvisoryQuery }> = [];
  for (const name of Object.keys(lock.apps).sort()) {
    const app = lock.apps[name]!;
    const dep = app.dependencyLock;
    if (!dep || basename(dep.file) !== 'package-lock.json') continue;
    const file = join(dir, app.path ?? '.', dep.file);
    let raw: Buffer;
    try {
      raw = await readFile(file);
      queries.push({ app: name, query: npmAdvisoryQuery(JSON.parse(raw.toString('utf8'))) });
    } catch (e) {
      problems.push(`cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      continue;
    }
    report.apps.push(name);
    if (dep.sha256 && createHash('sha256').update(raw).digest('hex') !== dep.sha256)
      report.notes.push(`${file} changed since ${LOCK_FILE} was written; its current content was checked`);
  }
  const merged = mergeQueries(queries.map((q) => q.query));
  if (Object.keys(merged).length) {
    const answer = await fetchNpmAdvisories(merged, npmAdvisoryEndpoint());
    if (answer.ok) report.advisories = queries.flatMap((q) => matchAdvisories(q.app, q.query, answer.advisories));
    else problems.unshift(answer.reason);
  }
  if (problems.length) {
    report.checked = false;
    report.reason = problems.join('; ');
  }
  return report;
}

function table(rows: string[][], color: boolean): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r, n) => {
    const line = r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
    return n === 0 && color ? `\x1b[1m${line}\x1b[0m` : line;
  });
}

const plural = (n: number, one: string, many = one + 's') => `${n} ${n === 1 ? one : many}`;

function formatHuman(o: { file: string; dirArg: string; lock: BulwarkLock; suites: string[]; outdated: OutdatedEntry[]; npm: NpmReport; color: boolean }): string {
  const { outdated, npm, color } = o;
  const lines: string[] = [];
  const checked = `${plural(Object.keys(o.lock.packages).length, 'locked package')} checked against ${o.suites.join(' and ')}`;
  lines.push(`${o.file} (Debian ${o.lock.suite}): ${checked}`);
  if (outdated.length) {
    lines.push('');
    lines.push(...table([['package', 'locked → available', 'suite', 'layers', 'apps'], ...outdated.map((e) => [e.package, `${e.locked} → ${e.available}`, e.suite, e.layers.join(', ') || '-', e.apps.join(', ') || '-'])], color));
    const rebuild = rebuildsByApp(outdated);
    if (Object.keys(rebuild).length) {
      lines.push('', 'images to rebuild:');
      for (const [app, pkgs] of Object.entries(rebuild)) lines.push(`  ${app}: ${pkgs.join(', ')}`);
    }
  }
  lines.push('');
  if (!npm.checked) lines.push(`npm advisories: not checked: ${npm.reason}${npm.advisories.length ? ' (partial results below)' : ''}`);
  else if (!npm.apps.length) lines.push('npm advisories: no Node app with a package-lock.json in the lock');
  else if (!npm.advisories.length) lines.push(`npm advisories: none (${npm.apps.join(', ')})`);
  if (npm.advisories.length) {
    if (npm.checked) lines.push(`npm advisories (${npm.apps.join(', ')}):`);
    const sev = (s: string) => (!color ? s : /critical|high/.test(s) ? `\x1b[31m${s}\x1b[0m` : /moderate/.test(s) ? `\x1b[33m${s}\x1b[0m` : s);
    const rows = table([['app', 'package', 'severity', 'advisory'], ...npm.advisories.map((a) => [a.app, `${a.package} ${a.version}`, a.severity, `${a.title} ${a.url}`.trim()])], color);
    // Colour the severity after padding, so the columns stay aligned.
    lines.push(...rows.map((r, i) => (i === 0 ? `  ${r}` : `  ${r.replace(` ${npm.advisories[i - 1]!.severity} `, ` ${sev(npm.advisories[i - 1]!.severity)} `)}`)));
  }

  lines.push('');
  const bySuite = [...new Set(outdated.map((e) => e.suite))].map((s) => `${outdated.filter((e) => e.suite === s).length} from ${s}`).join(', ');
  const apps = [...new Set(outdated.flatMap((e) => e.apps))];
  if (!outdated.length && !npm.advisories.length) {
    lines.push(`up to date: no locked package has a newer version${npm.checked ? (npm.apps.length ? ', and no npm advisory applies' : '') : ' (npm advisories not checked)'}`);
  } else {
    const parts: string[] = [];
    if (outdated.length) parts.push(`${plural(outdated.length, 'outdated package')} (${bySuite})${apps.length ? ` in ${plural(apps.length, 'app')}` : ''}`);
    if (npm.advisories.length) parts.push(plural(npm.advisories.length, 'npm advisory', 'npm advisories'));
    const dirArg = o.dirArg === '.' ? '' : ` ${o.dirArg}`;
    const update = outdated.some((e) => !e.suite.endsWith('-security')) ? 'bulwark lock --update' : 'bulwark lock --update --security-only';
    const fix = outdated.length ? `: run \`${update}${dirArg}\`, then \`bulwark build${dirArg}\`` : ': update the app dependencies, then `bulwark build`';
    lines.push(parts.join(', ') + fix);
  }
  return lines.join('\n') + '\n';
}

export const command: Command = {
  summary: 'list locked packages with newer security or point updates, and the images to rebuild',
  help,
  async run(args) {
    const { values, positionals } = parseCommandArgs('outdated', args, { json: { type: 'boolean' } });
    if (positionals.length > 1) throw usageError(`outdated: one folder at a time (got ${positionals.length}); see \`bulwark outdated --help\``);
    const dirArg = positionals[0] ?? '.';
    const dir = lockDir(dirArg);
    const file = resolve(dir, LOCK_FILE);
    const lock = readLock(dir);
    if (!lock) throw usageError(`no ${LOCK_FILE} in ${dirArg}: run \`bulwark lock ${dirArg}\` first`);
    checkShape(lock, file);

    const progress = (s: string) => {
      if (process.stderr.isTTY) process.stderr.write(`bulwark outdated: ${s}\n`);
    };
    // Both checks at once; npm never throws, so a Debian failure is what decides exit 3.
    const npmCheck = checkNpm(dir, lock);
    npmCheck.catch(() => {}); // awaited below; this only keeps an early Debian failure from leaving it unhandled
    const indexes = await loadIndexes(lock, file, progress);
    const npm = await npmCheck;
    const outdated = findOutdated(lock, indexes);
    for (const n of npm.notes) process.stderr.write(`bulwark outdated: note: ${n}\n`);

    if (values.json) {
      const out = {
        schemaVersion: 1,
        lock: file,
        outdated,
        npmAdvisories: { checked: npm.checked, ...(npm.reason ? { reason: npm.reason } : {}), advisories: npm.advisories },
      };
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    } else {
      const suites = [`${lock.suite}-security`, `${lock.suite}-updates`];
      process.stdout.write(formatHuman({ file, dirArg, lock, suites, outdated, npm, color: useColor() }));
    }
    return outdated.length || npm.advisories.length ? 1 : 0;
  },
};
