// Static site: an index.html at the top or in public/, dist/ or build/, and nothing to run.
// Served by Bulwark's file server on 8080; there is no app process and no writable data.
import { basename } from 'node:path';
import type { Detector } from './detector.js';
import type { DetectContext } from './context.js';
import { ev } from './evidence.js';
import { appName } from './name.js';
import { readPackageJson } from './package-json.js';

const roots = ['', 'public', 'dist', 'build'];

function siteRoot(ctx: DetectContext): string | undefined {
  return roots.find((d) => ctx.exists(d ? `${d}/index.html` : 'index.html'));
}

export const staticSite: Detector = {
  framework: 'static',
  family: 'static',
  match(ctx) {
    const root = siteRoot(ctx);
    if (root === undefined) return undefined;
    const file = root ? `${root}/index.html` : 'index.html';
    // Weak: many apps carry an index.html (a template, a front-end's source); they win when present.
    return { framework: 'static', family: 'static', strong: false, found: `${file} (static site)`, evidence: ev(file) };
  },
  detect(ctx) {
    const root = siteRoot(ctx)!;
    const index = root ? `${root}/index.html` : 'index.html';
    const pkg = readPackageJson(ctx);
    const name = appName(ctx, pkg?.name !== undefined ? { value: pkg.name, file: 'package.json', line: pkg.line('name') } : undefined, 'package.json');
    const none = [ev(index, undefined, 'static site: nothing to install, build or run')];
    return {
      name,
      dir: ctx.abs,
      framework: { value: 'static', evidence: [ev(index)] },
      runtime: { value: 'static', evidence: [ev(index)] },
      runtimeVersion: { value: '', evidence: none },
      packageManager: { value: 'none', evidence: none },
      install: { value: [], evidence: none },
      build: { value: [], evidence: none },
      start: { value: { argv: [], portVia: 'none' }, evidence: [ev(index, undefined, "served by Bulwark's static file server")] },
      port: { value: 8080, evidence: [ev(index, undefined, "Bulwark's static file server listens on 8080")] },
      healthPath: { value: '/', evidence: [ev(index, undefined, `${basename(index)} answers /`)] },
      staticDirs: { value: [root || '.'], evidence: [ev(index)] },
      writable: [],
      secrets: [],
    };
  },
};
