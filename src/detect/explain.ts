// `bulwark detect` without --json: what was detected, each value with the file:line it came from.
import type { AppSpec, Evidence, Fact } from '../types.js';

const where = (e: Evidence) => `${e.file}${e.line ? `:${e.line}` : ''}${e.note ? ` (${e.note})` : ''}`;
const because = (es: Evidence[]) => (es.length ? `  <- ${es.map(where).join('; ')}` : '');
const argv = (a: string[]) => a.map((x) => (/^[\w@%+=:,./-]+$/.test(x) ? x : JSON.stringify(x))).join(' ');
const commands = (cmds: string[][]) => (cmds.length ? cmds.map(argv).join(' && ') : '(none)');

const portVia = { env: 'passed as PORT', 'gunicorn-bind': 'gunicorn --bind', none: 'fixed by the app' } as const;

export function formatDetect(spec: AppSpec): string {
  const rows: string[] = [];
  const row = (label: string, value: string, evidence: Evidence[] = []) => rows.push(`  ${label.padEnd(16)} ${value}${because(evidence)}`);
  const fact = <T>(label: string, f: Fact<T>, show: (v: T) => string) => row(label, show(f.value), f.evidence);

  row('name', spec.name);
  row('folder', spec.dir);
  fact('framework', spec.framework, String);
  row('runtime', `${spec.runtime.value}${spec.runtimeVersion.value ? ` ${spec.runtimeVersion.value}` : ''}`, [...spec.runtime.evidence, ...spec.runtimeVersion.evidence].filter((e, i, a) => a.findIndex((x) => where(x) === where(e)) === i));
  fact('package manager', spec.packageManager, String);
  fact('install', spec.install, commands);
  fact('build', spec.build, commands);
  fact('start', spec.start, (s) => (s.argv.length ? argv(s.argv) : '(no process: static files)'));
  row('port', `${spec.port.value} (${spec.runtime.value === 'static' ? 'static file server' : portVia[spec.start.value.portVia]})`, spec.port.evidence);
  fact('health path', spec.healthPath, String);
  fact('static dirs', spec.staticDirs, (d) => (d.length ? d.join(', ') : '(none)'));
  if (spec.wsgiEntry) fact('wsgi entry', spec.wsgiEntry, String);
  if (spec.django) row('django', `settings ${spec.django.settingsModule} (${spec.django.settingsFile}), wsgi ${spec.django.wsgiModule}`);

  if (!spec.writable.length) row('writable', '(none)');
  spec.writable.forEach((w, i) => row(i ? '' : 'writable', `${w.path}${w.kind === 'dir' ? '/' : ''} [${w.reason}]`, w.evidence));
  if (!spec.secrets.length) row('secrets', '(none)');
  spec.secrets.forEach((s, i) => row(i ? '' : 'secrets', s.env, s.evidence));
  if (spec.python) {
    if (!spec.python.requirements.length) row('requirements', '(none)');
    spec.python.requirements.forEach((r, i) => row(i ? '' : 'requirements', `${r.name}${r.spec ? ` ${r.spec}` : ''}`, r.evidence));
  }
  return `${spec.name}: ${spec.framework.value} app\n${rows.join('\n')}\n`;
}
