'use tasklet';
// Every function of this module is a tasklet function, except async ones.
import type { Channel } from 'stackless';

export function ask(channel: Channel<string>): string {
  return channel.receive();
}

export const shout = (channel: Channel<string>) => ask(channel).toUpperCase();

export async function fetchLater(): Promise<string> {
  return 'later';
}
