// Progress on stderr: elapsed time prefix; colour only on a TTY without NO_COLOR.
import { useColor } from './args.js';

export function makeLogger(stream: NodeJS.WriteStream = process.stderr): (s: string) => void {
  const t0 = Date.now();
  const color = useColor(stream);
  return (s: string) => {
    const t = ((Date.now() - t0) / 1000).toFixed(1).padStart(6);
    stream.write(color ? `\x1b[2m${t}s\x1b[0m ${s}\n` : `${t}s ${s}\n`);
  };
}
