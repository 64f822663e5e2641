// Closures of every kind tasklet code can create are saveable (SPEC "Snapshots": only
// closures made by untransformed code may be refused): each case suspends with the closure
// live, goes through snapshot / JSON / restore at every step and must finish exactly as an
// uninterrupted run; sharing and identity are checked on the saved table.
import { describe, it, expect, afterEach } from 'vitest';
import { spawn, schedule, snapshot, restore, getRunCount, SnapshotError, type SnapshotData } from 'stackless';
import { everyStep, viaJson } from './every-step.js';

afterEach(() => {
  expect(getRunCount()).toBe(1);
});

/** What restore() says of a (tampered) snapshot: 'OK' or the SnapshotError's code. */
const code = (d: unknown): string => {
  try {
    restore(d as SnapshotData);
    return 'OK';
  } catch (e) {
    if (!(e instanceof SnapshotError)) throw e;
    return e.code;
  }
};

// ---- bindings of blocks without suspension points ----
function counter(start: number): { inc: () => number; get: () => number } {
  'use tasklet';
  // no call site at all: compiled anyway, so its closures are made through factories
  let n = start;
  return { inc: () => ++n, get: () => n };
}

function blocks(log: string[]): number {
  'use tasklet';
  const fs: Array<() => number> = [];
  for (let i = 0; i < 3; i++) fs[i] = () => i * 10; // a call-free loop: per-iteration bindings
  {
    let y = 5; // a plain block
    fs[3] = () => y++;
    fs[4] = () => y;
  }
  for (const w of [7, 8]) {
    const sq = w * w; // a block inside a loop: one binding per iteration
    fs[fs.length] = () => sq + w;
  }
  let caught: () => string = () => '';
  try {
    throw new Error('boom');
  } catch (e) {
    caught = () => (e as Error).message;
  }
  const c = counter(100);
  schedule();
  fs[3]();
  log.push(`y=${fs[4]()} c=${c.inc()}`);
  schedule();
  let sum = 0;
  for (const f of fs) {
    sum += f();
    log.push(`sum ${sum}`);
    schedule();
  }
  log.push(`${caught()} ${c.inc()} ${c.get()}`);
  return sum;
}

describe('closures over bindings of blocks without suspension points', () => {
  it('plain blocks, call-free loops (per iteration), catch parameters, functions without call sites', () => {
    const { trips, ref } = everyStep(blocks, () => [[]]);
    expect(ref[0]).toEqual(['y=6 c=101', 'sum 0', 'sum 10', 'sum 30', 'sum 36', 'sum 43', 'sum 99', 'sum 171', 'boom 102 102']);
    expect(trips).toBe(9);
  });

  it('closures sharing a block environment still share it after a restore', () => {
    const t = spawn(blocks, []);
    schedule();
    const data = viaJson(snapshot(t));
    t.kill();
    const fs = data.objs.filter((e) => e[0] === 'F');
    const envOf = (name: string) => fs.filter((e) => data.factories![e[1] as number][0].endsWith(`#${name}`)).map((e) => JSON.stringify(e.slice(2)));
    // the two closures over `y` name one environment entry
    const [a, b] = [fs.find((e) => data.factories![e[1] as number][0].includes('<anonymous 1>'))!, fs.find((e) => data.factories![e[1] as number][0].includes('<anonymous 2>'))!];
    expect(a.slice(2)).toEqual(b.slice(2));
    // the loop's three closures have three environments
    expect(new Set(envOf('blocks/<anonymous 0>')).size).toBe(3);
  });
});

// ---- object-literal methods, getters and setters ----
function wallet(log: string[]): string {
  'use tasklet';
  let cents = 250;
  const w = {
    owner: 'ann',
    add(n: number): number {
      cents += n;
      return cents;
    },
    get balance(): string {
      return `${this.owner}:${cents}`;
    },
    set balance(v: string) {
      cents = Number(v);
    },
    'odd key'(): string {
      return 'odd';
    },
  };
  schedule();
  w.add(50);
  log.push(w.balance, Object.keys(w).join(','));
  schedule();
  w.balance = '7';
  const d = Object.getOwnPropertyDescriptor(w, 'balance')!;
  log.push(w.balance, `${typeof d.get} ${typeof d.set} ${d.enumerable} ${d.get!.name}`);
  schedule();
  let ctor = 'no';
  try {
    new (w.add as any)(1);
  } catch {
    ctor = 'not a constructor';
  }
  log.push(`${w.add.name} ${'prototype' in w.add} ${ctor} ${w['odd key']()}`);
  return w.balance;
}

describe('object-literal methods and accessors', () => {
  it('methods stay methods, accessors stay accessors in their place; the object is saved with them', () => {
    const { trips, ref } = everyStep(wallet, () => [[]]);
    expect(ref[0]).toEqual(['ann:300', 'owner,add,balance,odd key', 'ann:7', 'function function true get balance', 'add false not a constructor odd']);
    expect(trips).toBe(3);
    const t = spawn(wallet, []);
    schedule();
    const data = viaJson(snapshot(t));
    t.kill();
    const obj = data.objs.find((e) => e[0] === 'O' && e[1] === 'owner')!;
    expect(obj[5]).toEqual(['balance', 1]);
    const [g, s] = obj[6] as unknown[][];
    expect(data.objs[g[1] as number][0]).toBe('F');
    expect(data.objs[s[1] as number][0]).toBe('F');
  });
});

describe('restore refuses tampered entries of the new kinds', () => {
  const sample = (fn: (log: string[]) => unknown): SnapshotData => {
    const t = spawn(fn, []);
    schedule();
    const d = viaJson(snapshot(t));
    t.kill();
    return d;
  };

  it('accessors: a bad marker, a pair that is not two functions, a prototype key', () => {
    const at = (d: SnapshotData) => d.objs.find((e) => e[0] === 'O' && e[1] === 'owner')!;
    expect(code(sample(wallet))).toBe('OK');
    const a = sample(wallet);
    at(a)[5] = ['balance', 2];
    expect(code(a)).toBe('BAD_VALUE');
    const b = sample(wallet);
    at(b)[6] = [[0]];
    expect(code(b)).toBe('BAD_VALUE');
    const c = sample(wallet);
    (at(c)[6] as unknown[])[0] = 42;
    expect(code(c)).toBe('BAD_VALUE');
    const d = sample(wallet);
    (at(d)[6] as unknown[])[0] = [1, d.objs.indexOf(at(d))]; // an object is no getter
    expect(code(d)).toBe('BAD_VALUE');
    const e = sample(wallet);
    at(e)[5] = ['__proto__', 1];
    expect(code(e)).toBe('PROTO_KEY');
  });
});

// ---- classes written in tasklet functions, and their instances ----
class Base {
  constructor(public tag: string) {}
  hello(): string {
    return `base ${this.tag}`;
  }
}

function localClasses(log: string[]): string {
  'use tasklet';
  let made = 0;
  class Point {
    constructor(public x: number, public y: number) {
      made++;
    }
    sum(): number {
      return this.x + this.y;
    }
    static origin(): Point {
      return new Point(0, 0);
    }
  }
  const Named = class extends Base {
    hello(): string {
      return `named ${super.hello()} ${made}`;
    }
  };
  class Point3 extends Point {
    z = 3;
    sum(): number {
      return super.sum() + this.z;
    }
  }
  const p = new Point(1, 2);
  const q = new Point3(4, 5);
  const n = new Named('n');
  schedule();
  log.push(`${p.sum()} ${q.sum()} ${n.hello()} ${made}`);
  schedule();
  const o = Point.origin();
  log.push(`${o instanceof Point} ${q instanceof Point} ${q instanceof Point3} ${n instanceof Base} ${Named.name} ${Point3.name}`);
  schedule();
  log.push(`${Object.getPrototypeOf(Point3) === Point} ${p.constructor === Point} ${made}`);
  return `${o.sum()} ${new Point(7, 7).sum()}`;
}

describe('classes written in tasklet functions', () => {
  it('the class is a closure (factory + environments), its instances keep their class, subclasses their base', () => {
    const { trips, ref } = everyStep(localClasses, () => [[]]);
    expect(ref[0]).toEqual(['3 12 named base n 2 2', 'true true true true Named Point3', 'true true 3']);
    expect(trips).toBe(3);
    const t = spawn(localClasses, []);
    schedule();
    const data = viaJson(snapshot(t));
    t.kill();
    const instances = data.objs.filter((e) => e[0] === 'L');
    expect(instances).toHaveLength(3);
    // one entry per class, however many instances
    expect(data.objs.filter((e) => e[0] === 'F' && data.factories![e[1] as number][0].endsWith('/Point'))).toHaveLength(1);
  });
});

describe('restore refuses tampered classes and instances', () => {
  const sample = (): SnapshotData => {
    const t = spawn(localClasses, []);
    schedule();
    const d = viaJson(snapshot(t));
    t.kill();
    return d;
  };
  const classEntry = (d: SnapshotData, name: string) => d.objs.find((e) => e[0] === 'F' && d.factories![e[1] as number][0].endsWith(`/${name}`))!;

  it('an instance whose class is not a class; a superclass that is not a class; classes extending each other in a cycle', () => {
    expect(code(sample())).toBe('OK');
    const a = sample();
    a.objs.find((e) => e[0] === 'L')![1] = [1, a.objs.findIndex((e) => e[0] === 'O')];
    expect(code(a)).toBe('BAD_REF');
    const b = sample();
    (classEntry(b, 'Point3') as unknown[])[(classEntry(b, 'Point3') as unknown[]).length - 1] = 42;
    expect(code(b)).toBe('BAD_CLOSURE');
    const c = sample();
    (classEntry(c, 'Point3') as unknown[])[(classEntry(c, 'Point3') as unknown[]).length - 1] = [4, 'Math.max'];
    expect(code(c)).toBe('BAD_CLOSURE');
    const d = sample();
    const p3 = d.objs.indexOf(classEntry(d, 'Point3'));
    (d.objs[p3] as unknown[])[(d.objs[p3] as unknown[]).length - 1] = [1, p3];
    expect(code(d)).toBe('BAD_CLOSURE');
    expect(() => restore(d)).toThrow(/in a cycle/);
  });
});

// ---- arrows over the enclosing function's arguments and new.target ----
interface GadgetLike {
  check: () => boolean;
  joined: () => string;
  first: () => number;
}
function Gadget(this: GadgetLike, _log: string[], ..._parts: string[]): void {
  'use tasklet';
  this.joined = () => Array.prototype.slice.call(arguments, 1).join('|');
  this.first = (): number => arguments.length;
  this.check = () => new.target === Gadget;
}

function withArgs(_log: string[], ...parts: string[]): string {
  'use tasklet';
  const count = (): number => arguments.length;
  schedule();
  const lens = parts.map((p) => {
    schedule(); // a frame of an inline tasklet callback reading arguments
    return `${p}${arguments.length}`;
  });
  return `${lens.join(',')} ${count()}`;
}

function gadgets(log: string[]): string {
  'use tasklet';
  const g = new (Gadget as any)(log, 'a', 'bb') as GadgetLike;
  schedule();
  log.push(`${g.joined()} ${g.first()} ${g.check()}`);
  const r = withArgs(log, 'x', 'yy');
  log.push(r);
  return r;
}

describe('arrows over arguments and new.target', () => {
  it('the arguments object and new.target are saved with the arrows (and the frames) that hold them', () => {
    const { trips, ref } = everyStep(gadgets, () => [[]]);
    expect(ref[0]).toEqual(['a|bb 3 true', 'x3,yy3 3']);
    expect(trips).toBe(4);
    const t = spawn(gadgets, []);
    schedule();
    const data = viaJson(snapshot(t));
    t.kill();
    expect(data.objs.filter((e) => e[0] === 'G')).toHaveLength(1); // one arguments object, shared by three arrows
  });
});

// ---- arrows over their class method's super ----
class Greeter {
  static prefix = 'hi';
  shown = '';
  set label(v: string) {
    this.shown = v.toUpperCase();
  }
  get label(): string {
    return this.shown;
  }
  greet(who: string): string {
    return `hello ${who}`;
  }
  static shout(s: string): string {
    return s.toUpperCase();
  }
}

class Polite extends Greeter {
  greetAll(log: string[], names: string[]): string {
    'use tasklet';
    const one = (n: string) => super.greet(n); // a call through super
    const read = () => super['greet'] === Greeter.prototype.greet; // a read with a computed key
    const setIt = () => (super.label = 'polite'); // a write: the base's setter runs on `this`
    const out = names.map((n) => {
      schedule(); // a frame of an inline callback using super
      return `${super.greet(n)}!`;
    });
    schedule();
    setIt();
    log.push(one('ann'), `${read()} ${this.shown}`);
    return out.join(' ');
  }
  static loud(log: string[], s: string): string {
    'use tasklet';
    const up = () => super.shout(s) + super.prefix;
    schedule();
    log.push(up());
    return up();
  }
}

function polite(log: string[]): string {
  'use tasklet';
  const p = new Polite();
  return `${p.greetAll(log, ['bo', 'cy'])} ${Polite.loud(log, 'x')}`;
}

describe('arrows over super', () => {
  it("super.m(), super[k] and super.x = v in arrows of instance and static methods keep their class's home", () => {
    const { trips, ref } = everyStep(polite, () => [[]]);
    expect(ref[0]).toEqual(['hello ann', 'true POLITE', 'Xhi']);
    expect(trips).toBe(4);
  });
});

// ---- built-in iterators kept across a suspension ----
function slow(x: number): number {
  'use tasklet';
  schedule();
  return x;
}

function iterators(log: string[], xs: string[], m: Map<string, number>, s: Set<number>): string {
  'use tasklet';
  const it = xs.values(); // kept in a variable
  const me = m.entries();
  const si = s[Symbol.iterator]();
  log.push(`${Object.prototype.toString.call(it)} ${Object.prototype.toString.call(me)} ${it[Symbol.iterator]() === it}`);
  schedule();
  log.push(String(it.next().value));
  m.set('late', 9); // added while iterating: visited
  schedule();
  log.push(JSON.stringify([...me]), JSON.stringify(si.next()));
  schedule();
  const [a = slow(1), b, c = slow(3)] = xs; // destructuring whose defaults suspend
  log.push(`${a} ${b} ${c}`, JSON.stringify(it.next()), JSON.stringify(it.next()), JSON.stringify(it.next()));
  return `${typeof (it as { return?: unknown }).return}`;
}

describe('built-in iterators kept across a suspension', () => {
  it('xs.values(), m.entries(), s[Symbol.iterator]() in variables and array destructuring with suspending defaults', () => {
    const mk = () => [[], [undefined as unknown as string, 'q'], new Map([['a', 1]]), new Set([5, 6])];
    const { trips, ref } = everyStep(iterators, mk);
    expect(ref[0]).toEqual([
      '[object Array Iterator] [object Map Iterator] true',
      'undefined',
      '[["a",1],["late",9]]',
      '{"value":5,"done":false}',
      '1 q 3',
      '{"value":"q","done":false}',
      '{"done":true}',
      '{"done":true}',
    ]);
    expect(trips).toBe(5);
  });
});

class Shelf {
  books = new Map([['dune', 1965], ['emma', 1815]]);
  tags = ['old', 'new'];
}
let picks = 0;
function pickNums(): number[] {
  picks++;
  return [4, 5, 6];
}
function shelfWalk(log: string[], shelf: Shelf, pick: () => number[]): string {
  'use tasklet';
  const it = shelf.books.entries(); // on a property, not a variable
  const nums = pick().values(); // on a call's result
  const tagIt = shelf.tags[Symbol.iterator]();
  schedule();
  log.push(JSON.stringify(it.next().value), String(nums.next().value));
  schedule();
  log.push(JSON.stringify([...it]), JSON.stringify([...nums]), String(tagIt.next().value));
  return Object.prototype.toString.call(it);
}

describe('built-in iterators made on any expression', () => {
  it('this.x.entries(), f().values(), o.xs[Symbol.iterator]() kept across suspensions: the object is evaluated once', () => {
    picks = 0;
    const mk = () => [[], new Shelf(), pickNums];
    const { trips, ref } = everyStep(shelfWalk, mk);
    expect(ref[0]).toEqual(['["dune",1965]', '4', '[["emma",1815]]', '[5,6]', 'old']);
    expect(trips).toBe(2);
    expect(picks).toBe(1 + 3); // the reference run and the runs stopped after 1, 2 and 3 switches: pick() once each
  });
});

function registry(log: string[]): string {
  'use tasklet';
  class Item {
    constructor(readonly name: string) {}
  }
  const Reg = Item as typeof Item & { count: number; last?: Item };
  Reg.count = 0;
  const make = (n: string) => {
    Reg.count++;
    return (Reg.last = new Item(n));
  };
  const tagged = Object.assign(() => 'tagged', { label: 'fn', uses: [1] });
  make('a');
  schedule();
  make('b');
  log.push(`${Reg.count} ${Reg.last?.name} ${tagged.label} ${tagged.uses.length}`);
  schedule();
  tagged.uses.push(2);
  return `${Reg.count}:${tagged()}:${tagged.uses.join('+')}:${Reg.last instanceof Item}`;
}

describe('properties assigned to closures and classes', () => {
  it('a local class with static properties and an arrow with properties keep them across a restore', () => {
    const { trips, ref } = everyStep(registry, () => [[]]);
    expect(ref[0]).toEqual(['2 b fn 1']);
    expect(trips).toBe(2);
  });

  it('restore refuses properties that are not a reference to an object of the right kind', () => {
    let data!: SnapshotData;
    const t = spawn(registry, []);
    schedule();
    data = viaJson(snapshot(t));
    t.kill();
    const withProps = data.objs.findIndex((e) => e[0] === 'F' && Array.isArray(e[e.length - 1]) && data.objs[(e[e.length - 1] as number[])[1]]?.[0] === 'N');
    expect(withProps).toBeGreaterThanOrEqual(0);
    const spoil = (f: (e: unknown[]) => void) => {
      const d = viaJson(data);
      f(d.objs[withProps]);
      return code(d);
    };
    expect(spoil((e) => (e[e.length - 1] = 5))).toBe('BAD_CLOSURE');
    expect(spoil((e) => (e[e.length - 1] = [1, 0]))).toBe('BAD_CLOSURE'); // objs[0] is no "N" entry
    expect(spoil((e) => e.push([0]))).toBe('BAD_CLOSURE');
  });
});
