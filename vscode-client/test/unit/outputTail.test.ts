import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TailBuffer, lastMeaningfulLine, recordInto } from '../../src/outputTail';

describe('the end of the server output', () => {
  it('finds the last line that says something, skipping client log lines', () => {
    const text = 'Traceback (most recent call last):\n  File "x"\nModuleNotFoundError: No module named \'onnxruntime\'\n\n[Error - 10:00:01] Server process exited with code 1.\n';
    assert.equal(lastMeaningfulLine(text), "ModuleNotFoundError: No module named 'onnxruntime'");
    assert.equal(lastMeaningfulLine('\n \n'), '');
  });

  it('records what goes through a channel, bounded', () => {
    const written: string[] = [];
    const tail = new TailBuffer(20);
    const channel = recordInto({ name: 'n', append: (v: string) => written.push(v), appendLine: (v: string) => written.push(`${v}\n`) }, tail);
    channel.append('a long first line that is cut\n');
    channel.appendLine('last words');
    assert.equal(channel.name, 'n');
    assert.deepEqual(written, ['a long first line that is cut\n', 'last words\n']);
    assert.equal(tail.lastLine, 'last words');
  });
});
