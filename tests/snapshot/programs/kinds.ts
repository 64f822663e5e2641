// Every kind of closure tasklet code creates, live in suspended tasklets, across processes
// (tests/snapshot/processes.test.ts): closures over plain-block and loop bindings, an object
// literal with methods and accessors, a class written in the tasklet function and its
// instances, arrows over arguments / new.target / super, an iterator kept in a variable.
// Modes: full / save <file> <k> / resume <file> (drive.ts).
import { spawn, schedule, type Tasklet } from 'stackless';
import { drive } from './drive.js';

class Animal {
  constructor(public name: string) {}
  sound(): string {
    return `${this.name} makes a sound`;
  }
}

class Dog extends Animal {
  tricks(n: number): string {
    'use tasklet';
    const bark = () => super.sound().replace('a sound', 'woof'); // an arrow over super
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      schedule();
      out.push(bark());
    }
    return out.join(', ');
  }
}

function kinds(label: string, ...extra: number[]): string {
  'use tasklet';
  const fs: Array<() => number> = [];
  for (let i = 0; i < 3; i++) fs[i] = () => i * extra.length; // call-free loop, per-iteration bindings
  let total = 0;
  const account = {
    owner: label,
    add(n: number): number {
      total += n;
      return total;
    },
    get summary(): string {
      return `${this.owner}:${total}`;
    },
  };
  class Counter {
    n = 0;
    bump(): number {
      return (this.n += arguments.length + 1);
    }
  }
  const counter = new Counter();
  const argc = () => arguments.length; // an arrow over arguments
  const letters = ['x', 'y', 'z'];
  const it = letters.values(); // an iterator kept in a variable
  const seen: string[] = [];
  for (const f of fs) {
    account.add(f());
    counter.bump();
    seen.push(String(it.next().value));
    schedule();
  }
  const dog = new Dog('rex');
  const tricks = dog.tricks(2);
  console.log(`${label}: ${account.summary} ${counter.n} ${counter instanceof Counter} ${argc()} ${seen.join('')} ${tricks}`);
  return account.summary;
}

const start = (): Tasklet[] => [spawn(kinds, 'ann', 1, 2), spawn(kinds, 'bob', 5)];
const results = (ts: Tasklet[]): void => console.log(`results: ${ts.map((t) => t.result).join(', ')}`);

drive(start, results);
