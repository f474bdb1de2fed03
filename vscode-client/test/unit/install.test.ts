import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type InstallStep, TORCH_REQUIREMENT, describeSource, installPlan, runSteps, venvPython, versionCheck } from '../../src/install';

describe('the private environment install plan', () => {
  it('creates the venv, installs CPU torch first, then the picked wheel, then checks the import', () => {
    const plan = installPlan(['/usr/bin/python3'], '/store/server-venv', '/src/dist/nearcode-0.1.0-py3-none-any.whl', 'linux');
    assert.deepEqual(
      plan.map((s) => [s.command, ...s.args].join(' ')),
      [
        '/usr/bin/python3 -m venv /store/server-venv',
        `/store/server-venv/bin/python -m pip install --disable-pip-version-check ${TORCH_REQUIREMENT}`,
        '/store/server-venv/bin/python -m pip install --disable-pip-version-check /src/dist/nearcode-0.1.0-py3-none-any.whl',
        '/store/server-venv/bin/python -c import lsp_server',
      ],
    );
    assert.equal(TORCH_REQUIREMENT, 'torch==2.13.0');
  });

  it('uses Scripts\\\\python.exe on Windows and keeps interpreter arguments', () => {
    assert.match(venvPython('C:\\\\v', 'win32'), /Scripts[\\\\/]python\.exe$/);
    assert.deepEqual(installPlan(['py', '-3.12'], 'v', 'x.whl', 'linux')[0].args, ['-3.12', '-m', 'venv', 'v']);
    assert.deepEqual(versionCheck(['py', '-3.12']).args.slice(0, 2), ['-3.12', '-c']);
  });

  it('accepts wheels and source distributions only', () => {
    assert.equal(describeSource('/d/nearcode-0.1.0-py3-none-any.whl'), 'the wheel nearcode-0.1.0-py3-none-any.whl');
    assert.equal(describeSource('/d/nearcode-0.1.0.tar.gz'), 'the source distribution nearcode-0.1.0.tar.gz');
    assert.equal(describeSource('/d/notes.txt'), undefined);
  });
});

describe('runSteps (real processes)', () => {
  const node = process.execPath;

  it('runs the steps in order and streams their output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nearcode-install-'));
    try {
      const file = join(dir, 'log');
      const steps: InstallStep[] = [
        { title: 'one', command: node, args: ['-e', `require('fs').appendFileSync(${JSON.stringify(file)}, '1'); console.log('hello')`] },
        { title: 'two', command: node, args: ['-e', `require('fs').appendFileSync(${JSON.stringify(file)}, '2')`] },
      ];
      const seen: string[] = [];
      let output = '';
      await runSteps(steps, { onStep: (s) => seen.push(s.title), onOutput: (t) => (output += t), isCancelled: () => false });
      assert.deepEqual(seen, ['one', 'two']);
      assert.equal(readFileSync(file, 'utf8'), '12');
      assert.match(output, /hello/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops at a failing step and says which, with the end of its output', async () => {
    const steps: InstallStep[] = [
      { title: 'installing x.whl', command: node, args: ['-e', "console.error('ERROR: No matching distribution'); process.exit(1)"] },
      { title: 'never', command: node, args: ['-e', ''] },
    ];
    const seen: string[] = [];
    await assert.rejects(
      runSteps(steps, { onStep: (s) => seen.push(s.title), onOutput: () => undefined, isCancelled: () => false }),
      /installing x\.whl failed \(exit code 1\): ERROR: No matching distribution/,
    );
    assert.deepEqual(seen, ['installing x.whl']);
  });

  it('reports a missing program', async () => {
    await assert.rejects(
      runSteps([{ title: 'creating the environment', command: '/nonexistent/python3', args: [] }], {
        onStep: () => undefined,
        onOutput: () => undefined,
        isCancelled: () => false,
      }),
      /creating the environment failed: spawn \/nonexistent\/python3 ENOENT/,
    );
  });
});
