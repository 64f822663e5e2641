/**
 * This file is itself compiled by `stackless/vite` (vitest.config.ts applies the project's own
 * plugin): the tasklet functions below only work if the transform ran on this test file.
 * Untransformed, a blocking channel operation inside them would throw StacklessError.
 */
import { Channel, run, spawn } from 'stackless';
import { describe, expect, it } from 'vitest';

function producer(channel: Channel<number>, count: number): void {
  'use tasklet';
  for (let i = 1; i <= count; i++) channel.send(i);
}

function doubler(input: Channel<number>, output: number[], count: number): void {
  'use tasklet';
  for (let i = 0; i < count; i++) {
    const value: number = input.receive();
    output.push(value * 2);
  }
}

describe('Vitest runs test files through stackless/vite', () => {
  it('tasklet functions declared in a test file block and resume', () => {
    const channel = new Channel<number>();
    const output: number[] = [];
    spawn(producer, channel, 5);
    spawn(doubler, channel, output, 5);
    expect(run()).toBeNull();
    expect(output).toEqual([2, 4, 6, 8, 10]);
  });
});
