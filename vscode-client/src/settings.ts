// Settings resolution: which program runs the server and what it is told.
// Pure functions over plain values; extension.ts reads the VS Code configuration and
// the Python extension, then calls these.

/** The subset of vscode.WorkspaceConfiguration.inspect()'s result that matters here. */
export interface Inspected<T> {
  defaultValue?: T;
  globalValue?: T;
  workspaceValue?: T;
  workspaceFolderValue?: T;
}

/**
 * The value of a machine-scoped setting: user (global) or default only. VS Code already
 * ignores workspace values for `scope: machine`, but a cloned repository's
 * .vscode/settings.json choosing the program we execute would be code execution, so the
 * workspace layers are dropped here too rather than trusting one manifest flag.
 */
export function machineValue<T>(inspected: Inspected<T> | undefined): T | undefined {
  if (inspected === undefined) {
    return undefined;
  }
  return inspected.globalValue ?? inspected.defaultValue;
}

/**
 * The value the user set at any level (folder, workspace, user), or undefined where only the
 * default holds: the server tells "not set" (null) from a value, e.g. an index keeps the
 * exclude patterns `nearcode index` was given until the user sets some here.
 */
export function userValue<T>(inspected: Inspected<T> | undefined): T | undefined {
  if (inspected === undefined) {
    return undefined;
  }
  return inspected.workspaceFolderValue ?? inspected.workspaceValue ?? inspected.globalValue;
}

export const DEFAULT_PYTHON = 'python3';
export const SERVER_MODULE = 'lsp_server';
export const SERVER_ARGS = ['-m', SERVER_MODULE, 'serve'] as const;

export type LaunchSource = 'nearcode.server.command' | 'nearcode.server.python' | 'python-extension' | 'default';

export interface LaunchInput {
  /** `nearcode.server.command` (machine value). */
  command?: unknown;
  /** `nearcode.server.python` (machine value). */
  python?: unknown;
  /** How the Python extension runs its selected interpreter, e.g. ['/venv/bin/python']. */
  pythonExtension?: readonly string[];
}

export interface ServerLaunch {
  command: string;
  args: string[];
  /** Interpreter invocation (program + leading args) when the server is run as a module. */
  python?: string[];
  source: LaunchSource;
}

function stringArray(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) {
    return undefined;
  }
  const parts = value.filter((v): v is string => typeof v === 'string').map((v) => v.trim());
  return parts.length > 0 && parts.every((p) => p !== '') ? parts : undefined;
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** Order: explicit command > nearcode.server.python > Python extension's interpreter > python3. */
export function resolveServerLaunch(input: LaunchInput): ServerLaunch {
  const command = stringArray(input.command);
  if (command) {
    return { command: command[0], args: command.slice(1), source: 'nearcode.server.command' };
  }
  const python = nonEmptyString(input.python);
  if (python) {
    return moduleLaunch([python], 'nearcode.server.python');
  }
  const fromExtension = stringArray(input.pythonExtension);
  if (fromExtension) {
    return moduleLaunch(fromExtension, 'python-extension');
  }
  return moduleLaunch([DEFAULT_PYTHON], 'default');
}

function moduleLaunch(python: string[], source: LaunchSource): ServerLaunch {
  return { command: python[0], args: [...python.slice(1), ...SERVER_ARGS], python, source };
}

/** argv that exits 0 only when the interpreter can import the server package. */
export function importCheckCommand(
  python: readonly string[],
  module: string = SERVER_MODULE,
): { command: string; args: string[] } {
  return { command: python[0], args: [...python.slice(1), '-c', `import ${module}`] };
}

/** Quotes one argv word for a POSIX shell when it needs it, so a copied command works. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The wheel scripts/build-wheel.sh writes (nearcode is not on PyPI). */
export const WHEEL_HINT = 'dist/nearcode-0.1.0-py3-none-any.whl';

/**
 * Shell commands that install the server into `python` by hand: CPU torch first, then the
 * wheel built from a checkout with scripts/build-wheel.sh.
 */
export function installCommand(python: readonly string[]): string {
  const pip = [...python, '-m', 'pip', 'install'].map(shellQuote).join(' ');
  return `${pip} torch==2.13.0 && ${pip} ${WHEEL_HINT}`;
}

export function describeLaunch(launch: ServerLaunch): string {
  return [launch.command, ...launch.args].map(shellQuote).join(' ');
}

/**
 * Where embeddings are computed (the server's `embeddings` object). Every field is
 * machine-scoped: a repository must not choose where its readers' code is sent.
 */
export interface EmbeddingsSettings {
  provider: 'local' | 'openai-compatible';
  url: string;
  model: string;
  dimensions: number | null;
  batchSize: number;
  maxConcurrency: number;
  timeoutMs: number;
  /** The NAME of an environment variable holding the API key, never the key. */
  apiKeyEnv: string;
}

export const DEFAULT_EMBEDDINGS: EmbeddingsSettings = {
  provider: 'local',
  url: '',
  model: '',
  dimensions: null,
  batchSize: 64,
  maxConcurrency: 4,
  timeoutMs: 30000,
  apiKeyEnv: '',
};

/**
 * Which files a folder's index holds. null: not set, so each folder keeps the scope its
 * index was built with.
 */
export interface Scope {
  exclude: string[] | null;
  maxFileSize: number | null;
}

/** One workspace folder's scope, read with its folder settings (a multi-root window's). */
export interface FolderScope extends Scope {
  uri: string;
}

/** The settings object the server receives (initializationOptions and didChangeConfiguration). */
export interface ServerSettings extends Scope {
  model: string | null;
  adapter: string;
  resultLimit: number;
  workspaceSymbols: boolean;
  embeddings: EmbeddingsSettings;
  /** Each folder's own scope, over the window's (exclude, maxFileSize above). */
  folders: FolderScope[];
}

export const DEFAULT_SERVER_SETTINGS: ServerSettings = {
  model: null,
  adapter: 'default',
  exclude: null,
  maxFileSize: null,
  resultLimit: 50,
  workspaceSymbols: true,
  embeddings: DEFAULT_EMBEDDINGS,
  folders: [],
};

/** Raw `nearcode.embeddings.*` values, each already reduced to its machine (user) value. */
export type RawEmbeddingsSettings = { [K in keyof EmbeddingsSettings]?: unknown };

export interface RawServerSettings {
  model?: unknown;
  adapter?: unknown;
  exclude?: unknown;
  maxFileSize?: unknown;
  resultLimit?: unknown;
  workspaceSymbols?: unknown;
  embeddings?: RawEmbeddingsSettings;
  folders?: { uri: string; exclude?: unknown; maxFileSize?: unknown }[];
}

/** Names of the `nearcode.embeddings.*` settings, for reading them one by one. */
export const EMBEDDINGS_KEYS = Object.keys(DEFAULT_EMBEDDINGS) as (keyof EmbeddingsSettings)[];

function positiveInt(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 1 ? Math.floor(value) : fallback;
}

/**
 * Sanitises the embeddings settings. A remote provider without a usable URL or model falls
 * back to the local model whole, so a half-filled form never sends code anywhere.
 */
export function buildEmbeddingsSettings(raw: RawEmbeddingsSettings = {}): EmbeddingsSettings {
  const d = DEFAULT_EMBEDDINGS;
  const url = nonEmptyString(raw.url) ?? '';
  const model = nonEmptyString(raw.model) ?? '';
  if (raw.provider !== 'openai-compatible' || !/^https?:\/\/./.test(url) || model === '') {
    return d;
  }
  const dimensions = positiveInt(raw.dimensions, 0);
  const keyName = nonEmptyString(raw.apiKeyEnv) ?? '';
  return {
    provider: 'openai-compatible',
    url,
    model,
    dimensions: dimensions > 0 ? dimensions : null,
    batchSize: positiveInt(raw.batchSize, d.batchSize),
    maxConcurrency: positiveInt(raw.maxConcurrency, d.maxConcurrency),
    timeoutMs: positiveInt(raw.timeoutMs, d.timeoutMs),
    apiKeyEnv: /^[A-Za-z_][A-Za-z0-9_]*$/.test(keyName) ? keyName : '',
  };
}

/** A scope's hand-edited values with the wrong types dropped (null: not set). */
function buildScope(raw: { exclude?: unknown; maxFileSize?: unknown }): Scope {
  const exclude = Array.isArray(raw.exclude)
    ? raw.exclude.filter((p): p is string => typeof p === 'string' && p.trim() !== '')
    : null;
  return { exclude, maxFileSize: positiveInt(raw.maxFileSize, 0) || null };
}

/** Sanitises hand-edited settings.json values so the server never sees the wrong types. */
export function buildServerSettings(raw: RawServerSettings): ServerSettings {
  const d = DEFAULT_SERVER_SETTINGS;
  return {
    model: nonEmptyString(raw.model) ?? null,
    adapter: nonEmptyString(raw.adapter) ?? d.adapter,
    ...buildScope(raw),
    resultLimit: positiveInt(raw.resultLimit, d.resultLimit),
    workspaceSymbols: typeof raw.workspaceSymbols === 'boolean' ? raw.workspaceSymbols : d.workspaceSymbols,
    embeddings: buildEmbeddingsSettings(raw.embeddings),
    folders: (raw.folders ?? []).map((folder) => ({ uri: folder.uri, ...buildScope(folder) })),
  };
}

/** A configuration read for one workspace folder (its folder settings included). */
export interface FolderConfiguration {
  uri: string;
  inspect: (key: string) => Inspected<unknown> | undefined;
}

/**
 * The settings the server receives, read from the `nearcode` section: `inspect` gives a
 * key's value at each level, `get` its effective value. Where code goes and which model
 * loads are the user's (machine) values alone; the scope (exclude, maxFileSize) is null
 * where the user set it nowhere, so that each folder keeps what its index was built with.
 * `folders` read the scope once more per workspace folder, where a multi-root window's
 * folder settings apply (the window's own reading has none).
 */
export function serverSettingsFrom(
  inspect: (key: string) => Inspected<unknown> | undefined,
  get: (key: string) => unknown,
  folders: readonly FolderConfiguration[] = [],
): ServerSettings {
  const embeddings: RawEmbeddingsSettings = {};
  for (const key of EMBEDDINGS_KEYS) {
    embeddings[key] = machineValue(inspect(`embeddings.${key}`));
  }
  return buildServerSettings({
    embeddings,
    model: machineValue(inspect('model')),
    adapter: machineValue(inspect('adapter')),
    exclude: userValue(inspect('exclude')),
    maxFileSize: userValue(inspect('maxFileSize')),
    resultLimit: get('resultLimit'),
    workspaceSymbols: get('workspaceSymbols'),
    folders: folders.map((folder) => ({
      uri: folder.uri,
      exclude: userValue(folder.inspect('exclude')),
      maxFileSize: userValue(folder.inspect('maxFileSize')),
    })),
  });
}

/** Settings whose change means a different server process, not just new options. */
export const LAUNCH_SETTINGS = ['nearcode.server.python', 'nearcode.server.command'] as const;
