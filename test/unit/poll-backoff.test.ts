// The propagation wait's schedule (issue 22): one poll interval first, then half again each time with +-20%
// jitter, capped at 7.5 intervals; never shorter than 0.8 of the interval.
import assert from 'node:assert/strict';
import { nextPollMs } from '../../src/procedures/waits.js';

describe('propagation polls back off like kubelet refreshes', () => {
  const middle = () => 0.5;

  it('starts at one interval and grows by half up to 7.5 intervals', () => {
    const seen: number[] = [];
    let d: number | undefined;
    for (let i = 0; i < 8; i++) seen.push((d = nextPollMs(2000, d, middle)));
    assert.deepEqual(seen, [2000, 3000, 4500, 6750, 10125, 15000, 15000, 15000]);
  });

  it('jitters within +-20% of the schedule', () => {
    assert.equal(
      nextPollMs(2000, undefined, () => 0),
      1600,
    );
    assert.equal(
      nextPollMs(2000, undefined, () => 1),
      2400,
    );
    assert.equal(
      nextPollMs(2000, 14_000, () => 1),
      18_000,
    );
  });
});
