// A crowd for the cross-process test of tasklet packs (tests/snapshot/processes.test.ts):
// 300 tasklets of three shapes parked on two channels, saved as packs, restored and fed in a
// fresh process.
//   full            run it to the end
//   save <file>     park them, write snapshot(...) as JSON to <file>, exit
//   resume <file>   restore it in this fresh process, feed the channels, run to the end
// The lines printed by save + resume must equal those of full.
import { readFileSync, writeFileSync } from 'node:fs';
import { Channel, spawn, run, snapshot, restore } from 'stackless';

function weigh(inbox: Channel<number>, id: number): number {
  'use tasklet';
  const v = inbox.receive();
  return v * 10 + (id % 7);
}
function member(inbox: Channel<number>, id: number, tally: Map<string, number>): void {
  'use tasklet';
  const label = id % 3 === 0 ? 'fizz' : `m${id}`;
  const w = weigh(inbox, id);
  tally.set(label, (tally.get(label) ?? 0) + w);
}
function giver(outbox: Channel<string>, id: number): void {
  'use tasklet';
  outbox.send(`gift ${id}`);
}

function park() {
  const inbox = new Channel<number>();
  const outbox = new Channel<string>();
  const tally = new Map<string, number>();
  for (let id = 0; id < 250; id++) spawn(member, inbox, id, tally);
  for (let id = 0; id < 50; id++) spawn(giver, outbox, id);
  run();
  return { inbox, outbox, tally };
}

function feed(inbox: Channel<number>, outbox: Channel<string>, tally: Map<string, number>): void {
  const gifts: string[] = [];
  while (outbox.balance > 0) gifts.push(outbox.receive());
  console.log(`${gifts.length} gifts, last ${gifts[gifts.length - 1]}`);
  for (let v = 0; inbox.balance < 0; v++) inbox.send(v);
  run();
  console.log(`tally ${tally.size}: fizz=${tally.get('fizz')} m1=${tally.get('m1')} m248=${tally.get('m248')}`);
}

const [mode, file] = process.argv.slice(2);
if (mode === 'full') {
  const { inbox, outbox, tally } = park();
  console.log(`parked ${-inbox.balance} + ${outbox.balance}`);
  feed(inbox, outbox, tally);
} else if (mode === 'save') {
  const { inbox, outbox, tally } = park();
  console.log(`parked ${-inbox.balance} + ${outbox.balance}`);
  const data = snapshot(inbox, outbox, tally);
  if (!data.packs || data.packs.length < 2) throw new Error('expected the crowd to be saved as packs');
  writeFileSync(file, JSON.stringify(data));
  process.exit(0);
} else if (mode === 'resume') {
  const { roots } = restore(readFileSync(file, 'utf8'));
  const [inbox, outbox, tally] = roots as [Channel<number>, Channel<string>, Map<string, number>];
  feed(inbox, outbox, tally);
} else throw new Error(`unknown mode ${mode}`);
