// What bulwark.hcl says about an app wins over what detect found; the evidence says so, so that
// `bulwark detect` explains an overridden value with the bulwark.hcl line. Domains and env stay on
// the Site for later stages. Pure.
import { relative } from 'node:path';
import type { AppSpec, Evidence, Secret, StartCommand } from '../types.js';
import type { SiteApp } from './types.js';

/** gunicorn's --bind carries the port in the argv: keep it in step with an overridden port. */
function rebind(start: StartCommand, port: number): StartCommand {
  if (start.portVia !== 'gunicorn-bind') return start;
  const withPort = (bind: string) => bind.replace(/:\d+$/, `:${port}`);
  const argv = start.argv.map((a, i, all) => {
    if (a.startsWith('--bind=')) return `--bind=${withPort(a.slice('--bind='.length))}`;
    const prev = all[i - 1];
    return prev === '--bind' || prev === '-b' ? withPort(a) : a;
  });
  return { ...start, argv };
}

/**
 * The AppSpec with the app's bulwark.hcl settings applied: name, port, health path, and extra
 * secrets (after the detected ones, which keep their order; the extras deduped and sorted). `file` is the absolute path of
 * bulwark.hcl (Site.file); evidence names it relative to the app folder, like all evidence.
 */
export function applySiteOverrides(spec: AppSpec, app: SiteApp, file: string | null): AppSpec {
  const where = file ? relative(spec.dir, file) || 'bulwark.hcl' : 'bulwark.hcl';
  const ev = (line: number | undefined, note = 'set in bulwark.hcl'): Evidence => (line ? { file: where, line, note } : { file: where, note });
  const out: AppSpec = { ...spec };
  if (app.name) out.name = app.name;
  if (app.framework && app.framework === spec.framework.value) out.framework = { value: spec.framework.value, evidence: [ev(app.lines?.framework), ...spec.framework.evidence] };
  if (app.port !== undefined) {
    out.port = { value: app.port, evidence: [ev(app.lines?.port)] };
    out.start = { value: rebind(spec.start.value, app.port), evidence: spec.start.evidence };
  }
  if (app.healthPath !== undefined) out.healthPath = { value: app.healthPath, evidence: [ev(app.lines?.healthPath)] };
  const extra = [...new Set(app.secrets)].filter((env) => !spec.secrets.some((s) => s.env === env)).sort();
  if (extra.length) out.secrets = [...spec.secrets, ...extra.map((env): Secret => ({ env, evidence: [ev(app.lines?.secrets, 'listed in bulwark.hcl')] }))];
  return out;
}
