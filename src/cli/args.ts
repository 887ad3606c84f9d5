// Shared argument parsing for commands: node's parseArgs with errors that exit 2.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { usageError } from '../types.js';

export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(cmd: string, args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw usageError(`${cmd}: ${(e as Error).message.split('\n')[0]}; see \`bulwark ${cmd} --help\``);
  }
}

/** Colour only on a TTY and when NO_COLOR is unset. */
export const useColor = (stream: NodeJS.WriteStream = process.stdout) => stream.isTTY === true && !process.env.NO_COLOR;
