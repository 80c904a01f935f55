import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';

/**
 * Isolated leverage has no KuCoin setting: it travels with each order (POST /api/v1/orders
 * `leverage`, https://www.kucoin.com/docs-new/api-3470235). What PUT /api/futures/leverage sets for
 * an isolated symbol is the default of later isolated orders on it, so it must outlive the process:
 * lost, those orders would silently go out at 1x. Kept in `<STATE_DIR>/leverage.json`, rewritten
 * whole on each change (temporary file + rename, atomic on POSIX file systems) and read at start.
 * Without a file path (unit tests) it lives in memory only.
 */
export class LeverageMemory {
  readonly #bySymbol = new Map<string, number>();
  readonly #file: string | undefined;
  readonly #logger: Logger | undefined;

  constructor(options: { file?: string; logger?: Logger } = {}) {
    this.#file = options.file;
    this.#logger = options.logger;
    if (this.#file) this.#load(this.#file);
  }

  /** `<stateDir>/leverage.json`. */
  static fileIn(stateDir: string): string {
    return join(stateDir, 'leverage.json');
  }

  get(symbol: string): number | undefined {
    return this.#bySymbol.get(symbol);
  }

  set(symbol: string, leverage: number): void {
    if (this.#bySymbol.get(symbol) === leverage) return;
    this.#bySymbol.set(symbol, leverage);
    if (this.#file) this.#save(this.#file);
  }

  #load(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new Error(`cannot read the remembered leverage at ${file}: ${(error as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`the remembered leverage at ${file} is not JSON; fix or remove the file`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`the remembered leverage at ${file} is not an object of symbol → leverage`);
    for (const [symbol, leverage] of Object.entries(parsed)) {
      if (typeof leverage === 'number' && Number.isInteger(leverage) && leverage >= 1) this.#bySymbol.set(symbol, leverage);
      else this.#logger?.warn({ event: 'leverage_memory_skipped', symbol }, `ignoring a remembered leverage that is no whole number ≥ 1 for ${symbol}`);
    }
  }

  #save(file: string): void {
    const temporary = `${file}.${process.pid}.tmp`;
    try {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(temporary, JSON.stringify(Object.fromEntries([...this.#bySymbol].sort(([a], [b]) => a.localeCompare(b))), null, 2) + '\n');
      renameSync(temporary, file);
    } catch (error) {
      // KuCoin has already done what was asked; failing the request now would misreport it.
      this.#logger?.error({ event: 'leverage_memory_unsaved', err: { message: (error as Error).message } }, 'the remembered leverage could not be saved; it lasts until restart only');
    }
  }
}
