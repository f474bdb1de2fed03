import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RestartBudget } from '../../src/restartBudget';

describe('RestartBudget', () => {
  it('allows maxRestarts restarts, then refuses', () => {
    let now = 0;
    const budget = new RestartBudget({ maxRestarts: 3, windowMs: 60_000, now: () => now });
    const answers = [1, 2, 3, 4, 5].map(() => {
      now += 1000;
      return budget.recordCrash();
    });
    assert.deepEqual(answers, [true, true, true, false, false]);
  });

  it('forgives crashes older than the window', () => {
    let now = 0;
    const budget = new RestartBudget({ maxRestarts: 2, windowMs: 60_000, now: () => now });
    assert.equal(budget.recordCrash(), true);
    assert.equal(budget.recordCrash(), true);
    now += 61_000;
    assert.equal(budget.recent, 0);
    assert.equal(budget.recordCrash(), true);
  });

  it('reset gives a fresh budget after a manual restart', () => {
    const budget = new RestartBudget({ maxRestarts: 1, now: () => 0 });
    budget.recordCrash();
    assert.equal(budget.recordCrash(), false);
    budget.reset();
    assert.equal(budget.recordCrash(), true);
  });
});
