// Human output of `bulwark audit`: one table row per check and a summary line.
// Evidence is cut to the terminal width so a row stays one line; --json keeps it whole.
import type { AuditReport, CheckStatus } from './types.js';

const COLORS: Record<CheckStatus, string> = { pass: '\x1b[32m', fail: '\x1b[31m', warn: '\x1b[33m', skip: '\x1b[2m' };
const RESET = '\x1b[0m';

export function truncate(s: string, max: number): string {
  const one = s.replace(/\s*\n\s*/g, ' ');
  return one.length <= max ? one : one.slice(0, Math.max(0, max - 1)) + '…';
}

export interface FormatOptions {
  color: boolean;
  /** Terminal columns; evidence is truncated to fit (default 160 when not a terminal). */
  width?: number;
}

export function formatTable(report: AuditReport, opts: FormatOptions): string {
  const titleWidth = Math.max(5, ...report.results.map((r) => r.title.length));
  const lead = 4 + 2 + 6 + 2 + titleWidth + 2;
  const evidenceWidth = Math.max(40, (opts.width ?? 160) - lead);
  const paint = (status: CheckStatus, text: string) => (opts.color ? COLORS[status] + text + RESET : text);
  const rows = [`${'ID'.padEnd(4)}  ${'STATUS'.padEnd(6)}  ${'CHECK'.padEnd(titleWidth)}  EVIDENCE`];
  for (const r of report.results) {
    // Pad before painting so escape codes do not shift the columns.
    rows.push(`${r.id.padEnd(4)}  ${paint(r.status, r.status.padEnd(6))}  ${r.title.padEnd(titleWidth)}  ${truncate(r.evidence, evidenceWidth)}`);
  }
  return rows.join('\n');
}

export function summaryLine(report: AuditReport): string {
  const warnings = report.results.filter((r) => r.status === 'warn').length;
  const skipped = report.results.filter((r) => r.status === 'skip').length;
  return `audit ${report.target}: ${report.passed} passed, ${report.failed} failed, ${warnings} warnings, score ${report.score}${skipped ? ` (${skipped} skipped)` : ''}`;
}

export const formatReport = (report: AuditReport, opts: FormatOptions) => `${formatTable(report, opts)}\n${summaryLine(report)}\n`;
