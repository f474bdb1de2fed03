import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type Inspected,
  DEFAULT_EMBEDDINGS,
  DEFAULT_SERVER_SETTINGS,
  type FolderConfiguration,
  buildEmbeddingsSettings,
  buildServerSettings,
  describeLaunch,
  importCheckCommand,
  installCommand,
  machineValue,
  resolveServerLaunch,
  serverSettingsFrom,
  shellQuote,
  userValue,
} from '../../src/settings';

describe('machineValue', () => {
  it('ignores workspace and folder values (a cloned repo must not pick the program we run)', () => {
    assert.equal(
      machineValue({ defaultValue: '', globalValue: '/usr/bin/python3', workspaceValue: './evil', workspaceFolderValue: './evil' }),
      '/usr/bin/python3',
    );
    assert.equal(machineValue({ defaultValue: '', workspaceValue: './evil' }), '');
    assert.equal(machineValue(undefined), undefined);
  });
});

describe('resolveServerLaunch', () => {
  it('prefers nearcode.server.command over everything', () => {
    const launch = resolveServerLaunch({ command: ['nearcode', 'serve'], python: '/p', pythonExtension: ['/x'] });
    assert.deepEqual(launch, { command: 'nearcode', args: ['serve'], source: 'nearcode.server.command' });
    assert.equal(launch.python, undefined, 'no import check for a custom command');
  });

  it('then nearcode.server.python', () => {
    assert.deepEqual(resolveServerLaunch({ command: [], python: ' /venv/bin/python ', pythonExtension: ['/x'] }), {
      command: '/venv/bin/python',
      args: ['-m', 'lsp_server', 'serve'],
      python: ['/venv/bin/python'],
      source: 'nearcode.server.python',
    });
  });

  it("then the Python extension's interpreter, keeping its leading arguments", () => {
    const launch = resolveServerLaunch({ python: '', pythonExtension: ['conda', 'run', '-n', 'x', 'python'] });
    assert.equal(launch.source, 'python-extension');
    assert.equal(launch.command, 'conda');
    assert.deepEqual(launch.args, ['run', '-n', 'x', 'python', '-m', 'lsp_server', 'serve']);
  });

  it('falls back to python3', () => {
    assert.deepEqual(resolveServerLaunch({}), {
      command: 'python3',
      args: ['-m', 'lsp_server', 'serve'],
      python: ['python3'],
      source: 'default',
    });
  });

  it('ignores malformed values from a hand-edited settings.json', () => {
    assert.equal(resolveServerLaunch({ command: 'nearcode serve', python: 42 }).source, 'default');
    assert.equal(resolveServerLaunch({ command: ['nearcode', ''] }).source, 'default');
    assert.equal(resolveServerLaunch({ pythonExtension: [] }).source, 'default');
  });
});

describe('install hint and checks', () => {
  it('builds the import check and the pip command for the same interpreter', () => {
    assert.deepEqual(importCheckCommand(['/v/bin/python']), { command: '/v/bin/python', args: ['-c', 'import lsp_server'] });
    // nearcode is not on PyPI: CPU torch first, then the wheel scripts/build-wheel.sh builds.
    assert.equal(
      installCommand(['/v/bin/python']),
      '/v/bin/python -m pip install torch==2.13.0 && /v/bin/python -m pip install dist/nearcode-0.1.0-py3-none-any.whl',
    );
    assert.match(installCommand(['/My Envs/python']), /^'\/My Envs\/python' -m pip install torch/);
  });

  it('quotes for a POSIX shell only when needed', () => {
    assert.equal(shellQuote('plain-word_1.2/x'), 'plain-word_1.2/x');
    assert.equal(shellQuote("it's"), `'it'\\''s'`);
    assert.equal(describeLaunch(resolveServerLaunch({ python: 'py' })), 'py -m lsp_server serve');
  });
});

describe('buildServerSettings', () => {
  it('passes valid values through', () => {
    assert.deepEqual(
      buildServerSettings({ model: '/models/m', adapter: 'none', exclude: ['**/gen/**'], maxFileSize: 2048, resultLimit: 10, workspaceSymbols: true }),
      {
        model: '/models/m',
        adapter: 'none',
        exclude: ['**/gen/**'],
        maxFileSize: 2048,
        resultLimit: 10,
        workspaceSymbols: true,
        embeddings: DEFAULT_EMBEDDINGS,
        folders: [],
      },
    );
  });

  it("repairs each folder's scope as the window's", () => {
    const folders = [{ uri: 'file:///a', exclude: ['gen/**', 4], maxFileSize: 'big' }];
    assert.deepEqual(buildServerSettings({ folders }).folders, [{ uri: 'file:///a', exclude: ['gen/**'], maxFileSize: null }]);
  });

  it('maps empty model to null and repairs wrong types', () => {
    assert.deepEqual(buildServerSettings({ model: '  ', adapter: ' ', exclude: 'x', maxFileSize: -1, resultLimit: 'ten', workspaceSymbols: 'yes' }), DEFAULT_SERVER_SETTINGS);
    assert.deepEqual(buildServerSettings({ exclude: ['a', 3, ''], resultLimit: 7.9 }).exclude, ['a']);
    assert.equal(buildServerSettings({ resultLimit: 7.9 }).resultLimit, 7);
  });

  it('sends null for a scope the user has not set, and an empty list as one', () => {
    const unset = buildServerSettings({});
    assert.equal(unset.exclude, null);
    assert.equal(unset.maxFileSize, null);
    assert.deepEqual(buildServerSettings({ exclude: [] }).exclude, []);
    assert.equal(buildServerSettings({ maxFileSize: 0 }).maxFileSize, null);
  });
});

describe('serverSettingsFrom', () => {
  // As VS Code's configuration answers: every key has its default; `levels` adds set values.
  const defaults: Record<string, unknown> = { exclude: [], maxFileSize: 1048576, resultLimit: 50, workspaceSymbols: true };
  function read(levels: Record<string, Inspected<unknown>>) {
    const inspect = (key: string): Inspected<unknown> => ({ defaultValue: defaults[key], ...levels[key] });
    const get = (key: string): unknown => {
      const i = inspect(key);
      return i.workspaceFolderValue ?? i.workspaceValue ?? i.globalValue ?? i.defaultValue;
    };
    return serverSettingsFrom(inspect, get, folders);
  }
  // Two folders of a multi-root window, read with their folder settings over `window`.
  let folders: FolderConfiguration[] = [];
  function inFolders(window: Record<string, Inspected<unknown>>, own: Record<string, Record<string, unknown>>) {
    folders = Object.entries(own).map(([uri, values]) => ({
      uri,
      inspect: (key: string): Inspected<unknown> => ({ defaultValue: defaults[key], ...window[key], workspaceFolderValue: values[key] }),
    }));
    try {
      return read(window);
    } finally {
      folders = [];
    }
  }

  it('sends null for a scope set nowhere, not its default', () => {
    const settings = read({});
    assert.deepEqual([settings.exclude, settings.maxFileSize, settings.resultLimit], [null, null, 50]);
  });

  it('sends a scope set at any level, an empty list included', () => {
    assert.deepEqual(read({ exclude: { workspaceValue: ['gen/**'] } }).exclude, ['gen/**']);
    assert.deepEqual(read({ exclude: { globalValue: [] } }).exclude, []);
    assert.equal(read({ maxFileSize: { workspaceFolderValue: 4096 } }).maxFileSize, 4096);
  });

  it("sends each folder's scope: its folder setting, else the window's, else null", () => {
    const settings = inFolders(
      { exclude: { workspaceValue: ['dist/**'] } },
      { 'file:///a': { exclude: ['gen/**'] }, 'file:///b': { maxFileSize: 4096 } },
    );
    assert.deepEqual(settings.exclude, ['dist/**']);
    assert.deepEqual(settings.folders, [
      { uri: 'file:///a', exclude: ['gen/**'], maxFileSize: null },
      { uri: 'file:///b', exclude: ['dist/**'], maxFileSize: 4096 },
    ]);
  });

  it('takes the model from the user alone, never the workspace', () => {
    assert.equal(read({ model: { workspaceValue: './evil' } }).model, null);
    assert.equal(read({ model: { globalValue: '/models/m' } }).model, '/models/m');
  });
});

describe('userValue', () => {
  it('is the value set at the nearest level, never the default', () => {
    assert.equal(userValue({ defaultValue: [] }), undefined);
    assert.equal(userValue(undefined), undefined);
    assert.deepEqual(userValue({ defaultValue: [], globalValue: ['a'] }), ['a']);
    assert.deepEqual(userValue({ defaultValue: [], globalValue: ['a'], workspaceValue: [] }), []);
    assert.deepEqual(userValue({ workspaceValue: ['w'], workspaceFolderValue: ['f'] }), ['f']);
  });
});

describe('buildEmbeddingsSettings', () => {
  const server = { provider: 'openai-compatible', url: 'http://gpu-box:8080/v1', model: 'bge-m3' };

  it('passes a complete server configuration through', () => {
    assert.deepEqual(buildEmbeddingsSettings({ ...server, dimensions: 256, batchSize: 32, apiKeyEnv: 'OPENAI_API_KEY' }), {
      ...DEFAULT_EMBEDDINGS,
      ...server,
      dimensions: 256,
      batchSize: 32,
      apiKeyEnv: 'OPENAI_API_KEY',
    });
  });

  it('keeps code local unless provider, an http(s) URL and a model are all set', () => {
    assert.deepEqual(buildEmbeddingsSettings(), DEFAULT_EMBEDDINGS);
    assert.deepEqual(buildEmbeddingsSettings({ ...server, provider: 'local' }), DEFAULT_EMBEDDINGS);
    assert.deepEqual(buildEmbeddingsSettings({ ...server, url: 'gpu-box:8080' }), DEFAULT_EMBEDDINGS);
    assert.deepEqual(buildEmbeddingsSettings({ ...server, model: ' ' }), DEFAULT_EMBEDDINGS);
  });

  it('takes a variable name for the key, never something that looks like a key', () => {
    assert.equal(buildEmbeddingsSettings({ ...server, apiKeyEnv: 'sk-live-123' }).apiKeyEnv, '');
  });

  it('sees only user values: a workspace cannot point embeddings at its own server', () => {
    const fromWorkspace = { defaultValue: '', workspaceValue: 'http://collector.example/v1' };
    const raw = { ...server, url: machineValue(fromWorkspace) };
    assert.deepEqual(buildEmbeddingsSettings(raw), DEFAULT_EMBEDDINGS);
  });
});
