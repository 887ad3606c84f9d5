// "Did you mean": the closest of a few known words, for unknown keys, targets and frameworks.

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(up + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}

/** The known word closest to `word`, when it is close enough to be a likely typo; healthPath finds health_path. */
export function closest(word: string, known: readonly string[]): string | undefined {
  const squash = (s: string) => s.toLowerCase().replace(/[-_\s]/g, '');
  const same = known.find((k) => squash(k) === squash(word));
  if (same) return same;
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(squash(word), squash(k));
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(Math.max(word.length, best.length) / 3)) ? best : undefined;
}

/** ` (did you mean "x"?)`-style hint, or ''. */
export const didYouMean = (word: string, known: readonly string[]): string => {
  const c = closest(word, known);
  return c ? `; did you mean ${JSON.stringify(c)}?` : '';
};
