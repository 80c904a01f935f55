/**
 * Keeps README.md and docs/ honest: their tables must say what the code and the contract say, and
 * the README's test command must be what CI runs. Each table is read from the document that holds
 * it. Plain regexes over the markdown, on purpose.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configTable } from '../../src/config/config.js';
import { errorCatalogue } from '../../src/errors.js';
import { isFuturesPath } from '../../src/http/handlers/futures.js';
import { futuresOperationHandlers } from '../../src/http/handlers/futures-operations.js';
import type { FuturesServices } from '../../src/futures/services.js';
import { asyncapiPath, openapiPath, projectRoot } from '../../src/paths.js';
import { SIM_ENV } from '../../src/simulator/config.js';

/** A file of the repository, by its repository-relative path. */
const read = (file: string) => readFileSync(join(projectRoot, file), 'utf8');

const readme = read('README.md');
const docFiles = readdirSync(join(projectRoot, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`);
/** README.md and every docs/*.md, for promises no document may make. */
const everyDocument = [readme, ...docFiles.map(read)].join('\n');
const ciRun = read('.ci/run');
const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts);

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Markdown lines with the lines inside fenced code blocks marked, so a `# comment` there is no heading. */
function outlined(markdown: string): { line: string; fenced: boolean }[] {
  let inFence = false;
  return markdown.split('\n').map((line) => {
    if (/^\s*```/.test(line)) {
      inFence = !inFence;
      return { line, fenced: true };
    }
    return { line, fenced: inFence };
  });
}

/**
 * The text under the heading `# <title>` or `## <title>` of `file`, up to the next heading of the
 * same or a higher level (a document whose title is the section gives all of itself).
 */
function section(file: string, title: string): string {
  const lines = outlined(read(file));
  const heading = new RegExp(`^(#{1,2}) ${escapeRegex(title)}\\s*$`);
  const start = lines.findIndex(({ line, fenced }) => !fenced && heading.test(line));
  if (start < 0) throw new Error(`${file} has no "# ${title}" or "## ${title}" heading`);
  const level = heading.exec(lines[start]!.line)![1]!.length;
  const next = new RegExp(`^#{1,${level}} `);
  const end = lines.findIndex(({ line, fenced }, index) => index > start && !fenced && next.test(line));
  return lines.slice(start + 1, end < 0 ? undefined : end).map(({ line }) => line).join('\n');
}

/** Markdown table rows as trimmed cells, without header separators. */
function rows(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => /^\|.*\|\s*$/.test(line) && !/^\|[\s|:-]+\|\s*$/.test(line))
    .map((line) => line.trim().slice(1, -1).split('|').map((cell) => cell.trim()));
}

/** Lines inside fenced code blocks, trimmed. */
function codeLines(text: string): string[] {
  let inFence = false;
  return text.split('\n').flatMap((line) => {
    if (/^\s*```/.test(line)) {
      inFence = !inFence;
      return [];
    }
    return inFence ? [line.trim()] : [];
  });
}

const code = (value: string | number) => `\`${value}\``;

const spec = parse(readFileSync(openapiPath, 'utf8')) as { paths: Record<string, Record<string, { operationId?: string; 'x-requires-credentials'?: boolean }>> };
/** Every operation of openapi.yaml, in document order. */
const operations = Object.entries(spec.paths).flatMap(([path, item]) =>
  ['get', 'put', 'post', 'delete', 'patch'].flatMap((method) => {
    const op = item[method];
    return op?.operationId ? [{ method: method.toUpperCase(), path, operationId: op.operationId, credentials: op['x-requires-credentials'] === true }] : [];
  }),
);

interface CurlExample {
  method: string;
  /** The URL path, query string dropped, still percent-encoded. */
  path: string;
  command: string;
}

/**
 * The curl commands in fenced code blocks: continuation lines (`\`) joined, `# comments` dropped.
 * The method is `-X`/`--request`, else POST when the command sends data, else GET.
 */
function curlExamples(text: string): CurlExample[] {
  const joined = codeLines(text).join('\n').replace(/\\\n\s*/g, ' ');
  return joined.split('\n').flatMap((line) => {
    const command = line.replace(/\s+#.*$/, '').trim();
    if (!/^curl\s/.test(command)) return [];
    const url = /(?:https?:\/\/)?(?:localhost|127\.0\.0\.1):\d+(\/[^\s'"?#]*)/.exec(command);
    if (!url) return [];
    const explicit = /\s(?:-X|--request)\s+([A-Za-z]+)/.exec(command)?.[1];
    const sendsData = /\s(?:-d|--data(?:-raw|-binary)?|--json)\s/.test(command);
    return [{ method: (explicit ?? (sendsData ? 'POST' : 'GET')).toUpperCase(), path: url[1]!, command }];
  });
}

/** `/api/futures/orders/{orderId}` → a regex any concrete path of that template matches. */
function templateRegex(template: string): RegExp {
  const parts = template.split(/\{[^}]+\}/).map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('[^/]+')}$`);
}

describe('configuration table (docs/operations.md)', () => {
  const table = rows(section('docs/operations.md', 'Configuration'));

  it.each(configTable.map((row) => [row.variable, row]))('has %s with its default and meaning', (_name, row) => {
    expect(table).toContainEqual([code(row.variable), code(row.default), row.meaning]);
  });

  it('lists no variable the code does not read', () => {
    expect(table.map(([variable]) => variable)).toEqual(['variable', ...configTable.map((row) => code(row.variable))]);
  });
});

describe('error table (docs/api.md)', () => {
  const table = rows(section('docs/api.md', 'Errors'));

  it.each(Object.entries(errorCatalogue))('has %s with its status', (name, { status }) => {
    expect(table.find(([first]) => first === code(name))?.[1]).toBe(String(status));
  });

  it('lists no code the catalogue does not have', () => {
    const listed = table.map(([first]) => first).filter((cell) => cell !== 'code');
    expect(listed).toEqual(Object.keys(errorCatalogue).map((name) => code(name)));
  });
});

describe('operations table (docs/api.md)', () => {
  const table = rows(section('docs/api.md', 'REST operations'));

  it.each(operations.map((op) => [op.operationId, op]))('has %s with its method, path and credential need', (_id, op) => {
    const row = table.find((cells) => cells[2] === code(op.operationId));
    expect(row?.slice(0, 4)).toEqual([op.method, code(op.path), code(op.operationId), op.credentials ? 'yes' : 'no']);
  });

  // Operations outside /api/futures always have a handler (the app refuses to boot otherwise); a
  // futures operation is served when futures-operations.ts has a handler for it, else it is a 501.
  const futuresHandlers = Object.keys(futuresOperationHandlers({} as FuturesServices));
  const served = (op: (typeof operations)[number]) => !isFuturesPath(op.path) || futuresHandlers.includes(op.operationId);

  it.each(operations.map((op) => [op.operationId, op]))('says whether this build serves %s', (_id, op) => {
    const status = table.find((cells) => cells[2] === code(op.operationId))?.[4];
    if (served(op)) expect(status).toBe('served');
    else expect(status).toMatch(/501/);
  });

  it('promises no "501 until ..." while every operation is served', () => {
    if (operations.every(served)) expect(everyDocument).not.toMatch(/501 until/i);
  });
});

describe('REST examples (docs/api.md)', () => {
  const examples = curlExamples(section('docs/api.md', 'REST operations'));

  it('finds curl examples to check', () => {
    expect(examples.length).toBeGreaterThanOrEqual(operations.length);
  });

  it.each(operations.map((op) => [op.operationId, op]))('has a curl example for %s with its method and path', (_id, op) => {
    const pattern = templateRegex(op.path);
    const matching = examples.filter((example) => example.method === op.method && pattern.test(example.path));
    expect(matching, `a curl ${op.method} ${op.path} in a code block of docs/api.md "## REST operations"`).not.toEqual([]);
  });

  it('sends a JSON content type with every JSON body', () => {
    const withBody = examples.filter((example) => /\s(?:-d|--data)\s+'\{/.test(example.command));
    expect(withBody.length).toBeGreaterThan(0);
    for (const example of withBody) expect(example.command, example.command).toMatch(/-H 'content-type: application\/json'/);
  });

  it('uses no path that the contract does not have', () => {
    const templates = operations.map((op) => ({ ...op, pattern: templateRegex(op.path) }));
    const unknown = examples.filter((example) => !templates.some((t) => t.method === example.method && t.pattern.test(example.path)));
    expect(unknown.map((example) => example.command)).toEqual([]);
  });
});

describe('commands table (docs/operations.md)', () => {
  const commands = section('docs/operations.md', 'Commands');
  const table = rows(commands);

  it.each(scripts)('documents the npm script %s', (script) => {
    const spelled = script === 'test' || script === 'start' ? `npm ${script}` : `npm run ${script}`;
    expect(table.map(([first]) => first)).toContain(code(spelled));
  });

  it('marks "not yet" only commands that package.json does not have', () => {
    const pending = table.filter((cells) => /not yet/i.test(cells.at(-1) ?? '')).map(([first]) => first!.replace(/^`npm (run )?|`$/g, ''));
    expect(pending.filter((script) => scripts.includes(script))).toEqual([]);
  });
});

describe("README's test command", () => {
  const quickStart = codeLines(section('README.md', 'Quick start')).filter((line) => line.startsWith('npm ci'));
  const ciLines = ciRun.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));

  it('is the second quick-start command, and .ci/run runs its steps in order', () => {
    const testCommand = quickStart[1];
    expect(testCommand, 'the quick start has a second "npm ci && ..." command').toBeDefined();
    const at = testCommand!.split('&&').map((part) => part.trim()).map((step) =>
      // `npm ci` may carry flags in CI (--no-audit...); every other step must be run exactly.
      ciLines.findIndex((line) => line === step || (step === 'npm ci' && line.startsWith(`${step} `))),
    );
    expect(at.every((index) => index >= 0), `.ci/run runs every step of "${testCommand}"`).toBe(true);
    expect(at).toEqual([...at].sort((a, b) => a - b));
  });
});

describe('simulator section (docs/simulator.md)', () => {
  const text = section('docs/simulator.md', 'The KuCoin simulator');
  const table = rows(text);
  const source = (file: string) => readFileSync(join(projectRoot, 'src', 'simulator', 'rest', file), 'utf8');

  it.each(SIM_ENV.map((row) => [row.variable, row]))('has %s with its default and meaning', (_name, row) => {
    expect(table).toContainEqual([code(row.variable), code(row.default), row.meaning]);
  });

  it('lists no simulator variable that SIM_ENV does not have', () => {
    expect(table.map(([first]) => first).filter((cell) => /^`SIM_/.test(cell!))).toEqual(SIM_ENV.map((row) => code(row.variable)));
  });

  // The control routes and fault actions, read from the source: a new one must reach docs/simulator.md.
  const routes = [...source('control.ts').matchAll(/^\s*'((?:GET|POST|PUT|DELETE) \/sim\/[^']*)':/gm)].map((m) => m[1]!);
  const actions = [...source('faults.ts').matchAll(/^\s*case '([a-z-]+)':/gm)].map((m) => m[1]!);

  it('finds the control routes and fault actions to check', () => {
    expect(routes.length).toBeGreaterThanOrEqual(10);
    expect(actions).toEqual(['http', 'business', 'rate-limit', 'latency', 'bad-body', 'drop']);
  });

  it.each(routes)('has the control route %s', (route) => {
    expect(table.map(([first]) => first)).toContain(code(route));
  });

  it.each(actions)('has the fault action %s', (action) => {
    expect(table.map(([first]) => first)).toContain(code(action));
  });
});

describe('rollout section (docs/operations.md)', () => {
  const text = section('docs/operations.md', 'Rollout');
  const table = rows(text);
  const dir = join(projectRoot, 'scripts', 'rollout');
  const files = readdirSync(dir).filter((name) => name.endsWith('.sh'));
  // What the scripts read from the environment (`${NAME:-...}`), less their own state and the shell's.
  const internal = new Set(['ROLLOUT_LIB_LOADED', 'EPOCHREALTIME', 'TMPDIR', 'HTTP_STATUS', 'HTTP_ERROR', 'RESTARTED_AT_MS', 'STARTED_PID', 'FEATURE_FUTURES', 'PORT']);
  const variables = [...new Set(files.flatMap((name) => [...readFileSync(join(dir, name), 'utf8').matchAll(/\$\{([A-Z][A-Z0-9_]*):-/g)].map((m) => m[1]!)))]
    .filter((name) => !internal.has(name))
    .sort();

  it('finds scripts and variables to check', () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
    expect(variables).toContain('RESTART_CMD');
  });

  it.each(files)('mentions scripts/rollout/%s', (name) => {
    expect(text).toContain(`\`${name}`);
  });

  it.each(variables)('has %s in its environment table', (name) => {
    expect(table.map(([first]) => first)).toContain(code(name));
  });

  it('promises no rollout script for later', () => {
    expect(everyDocument).not.toMatch(/rollout scripts[^.]*(later issue|come with)/i);
  });
});

describe('WebSocket section (docs/websocket.md)', () => {
  const text = section('docs/websocket.md', 'WebSocket `/ws/futures`');
  const table = rows(text);
  interface Message {
    payload: { properties: { type: { const: string }; code?: { enum?: string[] }; status?: { enum?: string[] } } };
  }
  const asyncapi = parse(readFileSync(asyncapiPath, 'utf8')) as {
    channels: { futures: { 'x-close-codes': { code: number }[] } };
    operations: Record<string, { action: 'send' | 'receive'; messages: { $ref: string }[]; reply?: { messages: { $ref: string }[] } }>;
    components: { messages: Record<string, Message> };
  };
  const closeCodes = asyncapi.channels.futures['x-close-codes'].map(({ code }) => String(code));
  /** `#/channels/futures/messages/x` and `#/components/messages/x` both name components.messages.x. */
  const message = (ref: string) => asyncapi.components.messages[ref.split('/').at(-1)!]!;
  const typeOf = (ref: { $ref: string }) => message(ref.$ref).payload.properties.type.const;
  const operations = Object.values(asyncapi.operations);
  // The document describes the gateway: it sends `send` messages and the replies to what it receives.
  const serverTypes = [
    ...new Set(operations.flatMap((op) => (op.action === 'send' ? op.messages : (op.reply?.messages ?? [])).map(typeOf))),
  ];
  const clientTypes = [...new Set(operations.filter((op) => op.action === 'receive').flatMap((op) => op.messages.map(typeOf)))];
  const properties = Object.values(asyncapi.components.messages).map((m) => m.payload.properties);
  const errorCodes = properties.flatMap((p) => (p.type.const === 'error' ? (p.code?.enum ?? []) : []));
  const statuses = properties.flatMap((p) => (p.type.const === 'upstream_status' ? (p.status?.enum ?? []) : []));

  it('finds the contract items to check', () => {
    expect(closeCodes.length).toBeGreaterThanOrEqual(8);
    expect(serverTypes).toEqual(expect.arrayContaining(['futures_connected', 'upstream_status', 'subscriptions', 'error', 'pong']));
    expect(clientTypes).toEqual(expect.arrayContaining(['subscribe', 'unsubscribe', 'ping']));
    expect(errorCodes).toContain('RATE_LIMITED');
    expect(statuses).toEqual(['up', 'down', 'reconnecting']);
  });

  it.each(closeCodes)('has close code %s in a table', (closeCode) => {
    expect(table.map(([first]) => first)).toContain(closeCode);
  });

  it('lists no close code the contract does not have', () => {
    const listed = table.map(([first]) => first!).filter((cell) => /^\d{4}$/.test(cell));
    expect([...new Set(listed)].sort()).toEqual([...closeCodes].sort());
  });

  it.each(serverTypes)('has the server message %s', (type) => {
    expect(table.some((cells) => cells[0] === 'server → client' && cells[1]!.includes(code(type)))).toBe(true);
  });

  it.each(clientTypes)('has the client message %s', (type) => {
    expect(table.some((cells) => cells[0] === 'client → server' && cells[1]!.includes(code(type)))).toBe(true);
  });

  it.each(errorCodes)('has the error code %s in a table', (errorCode) => {
    expect(table.map(([first]) => first)).toContain(code(errorCode));
  });

  it.each(statuses)('explains upstream_status %s', (status) => {
    expect(text).toMatch(new RegExp(`^- ${code(status)}: `, 'm'));
  });

  it('promises no live feed for a later issue', () => {
    expect(everyDocument).not.toMatch(/issue 5/i);
  });
});

describe('README as a landing page', () => {
  /** Link targets in the README, outside fenced code. */
  const targets = [...outlined(readme).filter(({ fenced }) => !fenced).map(({ line }) => line).join('\n').matchAll(/\]\(\s*<?([^)\s>#]+)/g)].map((m) => m[1]!);

  it('stays short enough to read in five minutes', () => {
    expect(readme.split('\n').length).toBeLessThan(220);
  });

  it('finds documents to map', () => {
    expect(docFiles).toEqual(expect.arrayContaining(['docs/architecture.md', 'docs/kucoin.md', 'docs/operations.md', 'docs/api.md']));
  });

  it.each(docFiles)('links %s', (file) => {
    expect(targets).toContain(file);
  });
});
