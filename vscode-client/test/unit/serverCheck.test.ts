import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkServerImport, isNotFoundError } from '../../src/serverCheck';

// Uses the machine's python3 (the extension's default interpreter) for real.
describe('checkServerImport', () => {
  it('succeeds when the module imports', async () => {
    assert.deepEqual(await checkServerImport(['python3'], 20_000, 'json'), { outcome: 'ok', detail: '' });
  });

  it('says "not installed" with the import error when the module is missing', async () => {
    const result = await checkServerImport(['python3'], 20_000, 'nearcode_no_such_module');
    assert.equal(result.outcome, 'notInstalled');
    assert.match(result.detail, /ModuleNotFoundError/);
  });

  it('says "not found" when the interpreter does not exist', async () => {
    const result = await checkServerImport(['/nonexistent/python'], 5_000);
    assert.equal(result.outcome, 'notFound');
    assert.match(result.detail, /ENOENT/);
  });

  it('says "failed" for an interpreter that breaks for another reason', async () => {
    const result = await checkServerImport(['python3', '-c', 'raise SystemExit(3)', '--'], 20_000);
    assert.equal(result.outcome, 'failed');
  });

  it('recognises spawn failures in the language client\'s error text', () => {
    assert.equal(isNotFoundError('Launching server using command /x/python failed. Error: spawn /x/python ENOENT'), true);
    assert.equal(isNotFoundError({ code: 'EACCES' }), true);
    assert.equal(isNotFoundError('Server process exited with code 1.'), false);
  });
});
