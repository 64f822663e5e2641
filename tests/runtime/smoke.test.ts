import { describe, it, expect } from 'vitest';
import { S, tf } from './support/hand.js';
import { spawn, run, schedule, getRunCount } from '../../runtime/index.js';

describe('smoke', () => {
  it('round robin', () => {
    const log: string[] = [];
    const f = tf('f', ['name'], [
      S.do((L) => { L.i = 0; }),
      S.while((L) => L.i < 2, [
        S.do((L) => log.push(L.name + L.i++)),
        S.call(() => [schedule, undefined]),
      ]),
    ]);
    spawn(f, 'A'); spawn(f, 'B'); spawn(f, 'C');
    expect(run()).toBe(null);
    expect(log).toEqual(['A0', 'B0', 'C0', 'A1', 'B1', 'C1']);
    expect(getRunCount()).toBe(1);
  });
});
