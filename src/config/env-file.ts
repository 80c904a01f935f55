import { readFileSync } from 'node:fs';
import { parse } from 'dotenv';

/**
 * Reads a `.env` file into a plain map without touching process.env.
 * Returns undefined when the file does not exist: a missing `.env` is a normal setup.
 *
 * dotenv's `parse` assigns keys in file order, so a later line wins over an earlier one;
 * the rollout playbook relies on that when it appends `FEATURE_FUTURES=false`.
 */
export function readEnvFile(file: string): Record<string, string> | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return parse(text);
}
