// Closures, frames of a nested tasklet function, for-of positions, a class nobody registered,
// a module-level function held in a local and a module-level channel, across processes
// (tests/snapshot/processes.test.ts):
// Modes: full / save <file> <k> / resume <file> (drive.ts).
import { Channel, spawn, schedule, type Tasklet } from 'stackless';
import { drive } from './drive.js';

// module-level: a restored tasklet waiting on it waits on this process's `feed`
const feed = new Channel<number>();

// registered automatically as "tests/snapshot/programs/closures.ts#Basket"
class Basket {
  items: string[] = [];
  put(x: string): void {
    this.items.push(x);
  }
}

// saved by reference where a local holds it
function shout(s: string): string {
  return s.toUpperCase();
}

function shopper(name: string, wants: string[]): string {
  'use tasklet';
  const basket = new Basket();
  let spent = 0;
  const pay = (n: number) => (spent += n);
  const fmt = shout;
  function pick(item: string): void {
    'use tasklet';
    const price = feed.receive(); // blocks in a frame of the closure
    pay(price);
    basket.put(fmt(item));
    console.log(`${name} picked ${item} for ${price}`);
  }
  for (const w of wants) pick(w);
  const totals = new Map<string, number>([['spent', spent], ['items', basket.items.length]]);
  for (const [k, v] of totals.entries()) {
    console.log(`${name} ${k} ${v}`);
    schedule();
  }
  return basket.items.join('+');
}

function cashier(n: number): void {
  'use tasklet';
  for (let i = 1; i <= n; i++) {
    feed.send(i * 10);
    schedule();
  }
  console.log('cashier done');
}

const start = (): Tasklet[] => [spawn(shopper, 'ann', ['apple', 'bread']), spawn(shopper, 'bob', ['cheese']), spawn(cashier, 3)];
const results = (ts: Tasklet[]): void => console.log(`results: ${ts.slice(0, 2).map((t) => t.result).join(', ')}`);

drive(start, results);
