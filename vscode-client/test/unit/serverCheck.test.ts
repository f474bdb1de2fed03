import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkServerImport } from '../../src/serverCheck';

// Uses the machine's python3 (the extension's default interpreter) for real.
describe('checkServerImport', () => {
  it('succeeds when the module imports', async () => {
    assert.deepEqual(await checkServerImport(['python3'], 20_000, 'json'), { ok: true, detail: '' });
  });

  it('fails with the import error when the module is missing', async () => {
    const result = await checkServerImport(['python3'], 20_000, 'nearcode_no_such_module');
    assert.equal(result.ok, false);
    assert.match(result.detail, /ModuleNotFoundError/);
  });

  it('fails when the interpreter does not exist', async () => {
    const result = await checkServerImport(['/nonexistent/python'], 5_000);
    assert.equal(result.ok, false);
    assert.match(result.detail, /ENOENT/);
  });
});
