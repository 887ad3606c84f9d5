import type { Command } from './main.js';
import { parseCommandArgs } from './args.js';
import { commonHelp, commonOptions, loadProject, packerDialect } from './project.js';
import { build } from '../build/index.js';
import { formatChanges } from '../lock/lockfile.js';
import { usageError } from '../types.js';
import { makeLogger } from './progress.js';
import { readManifest } from '../build/manifest.js';
import { docker } from '../build/docker.js';

export const command: Command = {
  summary: 'apply Debian security updates: bump the affected pins, rebuild only what they touch',
  help: `Usage: bulwark rebuild --security [dir] [--json]

Updates only the pins that have a newer version in <suite>-security (as
\`bulwark lock --update --security-only\`), rebuilds only the image layers of the source
packages that changed, and puts each app's unchanged layers onto them without rerunning its
install (a rebase, like \`pack rebase\`). An app whose own inputs changed rebuilds normally.
The rebased image is the image a fresh build from the new lock gives (same image ID).

Options:
${commonHelp}

Reports what was rebuilt and what was rebased. Exit codes as for build.`,
  async run(args) {
    const { values, positionals } = parseCommandArgs('rebuild', args, { ...commonOptions, security: { type: 'boolean' } });
    if (!values.security) throw usageError('rebuild needs --security (the only kind of rebuild so far): bulwark rebuild --security [dir]');
    const log = makeLogger();
    const ctx = await loadProject(positionals[0], values, { update: 'security', write: true, log });
    const changes = ctx.lock.changes;
    log(changes.length ? `lock: ${changes.length} security update(s):\n${formatChanges(changes)}` : 'lock: no security updates');
    // Compare with the images the last build recorded: which layers are new in each.
    const before = new Map<string, Set<string>>();
    const previous = readManifest(ctx.plan.projectDir).artifacts.filter((a) => a.kind === 'docker-image');
    if (previous.length) {
      // One docker call for all of them; an image since removed just has no "before".
      const r = await docker(['image', 'inspect', '-f', '{{.Id}} {{json .RootFS.Layers}}', ...previous.map((a) => a.id)], { allowFail: true });
      const layersById = new Map(r.stdout.split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf(' ')), JSON.parse(l.slice(l.indexOf(' ') + 1)) as string[]]));
      for (const a of previous) if (layersById.has(a.id)) before.set(a.app, new Set(layersById.get(a.id)));
    }
    const r = await build(ctx, { packerDialect: await packerDialect(), log });
    const summary = r.docker.map((d) => {
      const old = before.get(d.artifact.app);
      const fresh = d.layers.filter((l) => !old || !old.has(l.diffId)).map((l) => l.name);
      const appRebuilt = fresh.some((n) => n === 'app' || n === 'app-deps');
      const action = !old ? 'built' : appRebuilt ? 'rebuilt' : fresh.length ? 'rebased' : 'unchanged';
      return { app: d.artifact.app, image: d.imageId, tag: d.tag, action, rebuiltLayers: fresh };
    });
    if (values.json) process.stdout.write(JSON.stringify({ schemaVersion: 1, changes, images: summary, artifacts: r.artifacts }, null, 2) + '\n');
    else
      for (const s of summary)
        process.stdout.write(`${s.app}: ${s.action} → ${s.tag} (${s.image.slice(7, 19)})${s.rebuiltLayers.length ? `; new layers: ${s.rebuiltLayers.join(', ')}` : ''}\n`);
    return 0;
  },
};
