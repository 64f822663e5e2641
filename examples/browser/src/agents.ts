/**
 * The agents. Each agent is two tasklets:
 *
 * - a talker, which wanders over the world and now and then asks a nearby agent for its
 *   colour: it sends a question on that agent's inbox (a rendezvous channel) and blocks on
 *   its own reply channel until the answer comes, then takes a step towards that colour;
 * - a listener, which blocks on its inbox, answers each question with its own colour and
 *   then leans towards the asker's.
 *
 * Listeners wait for nothing but questions (and for an asker that is already waiting for
 * its reply), so the talkers' blocking sends and receives can never form a cycle.
 * Everything here is plain synchronous code: "use tasklet" turns these functions into
 * resumable state machines, and `send`, `receive` and `sleep` block only the tasklet.
 */
import { Channel, sleep } from 'stackless';

export interface Question {
  from: number;
  hue: number;
  reply: Channel<number>;
}

export interface World {
  readonly width: number;
  readonly height: number;
  readonly count: number;
  readonly x: Float32Array;
  readonly y: Float32Array;
  readonly vx: Float32Array;
  readonly vy: Float32Array;
  /** Colour of each agent, a hue in degrees [0, 360). */
  readonly hue: Float32Array;
  readonly inbox: Channel<Question>[];
  /** Questions asked and answered so far (one conversation = 2 messages). */
  messages: number;
  /** Recent conversations for drawing: pairs (asker, answerer), a ring of `links.length / 2`. */
  readonly links: Int32Array;
  linkCount: number;
  /** Steps the talkers have taken (all agents together). */
  steps: number;
}

/** A small deterministic generator (mulberry32), so a page load is reproducible. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function createWorld(count: number, width: number, height: number, rand: () => number): World {
  const world: World = {
    width,
    height,
    count,
    x: new Float32Array(count),
    y: new Float32Array(count),
    vx: new Float32Array(count),
    vy: new Float32Array(count),
    hue: new Float32Array(count),
    inbox: [],
    messages: 0,
    links: new Int32Array(2 * 256),
    linkCount: 0,
    steps: 0,
  };
  for (let i = 0; i < count; i++) {
    world.x[i] = rand() * width;
    world.y[i] = rand() * height;
    const angle = rand() * 2 * Math.PI;
    world.vx[i] = Math.cos(angle);
    world.vy[i] = Math.sin(angle);
    world.hue[i] = rand() * 360;
    world.inbox.push(new Channel<Question>());
  }
  return world;
}

/** `a` moved by `t` of the way towards `b` on the colour circle. */
export function mixHue(a: number, b: number, t: number): number {
  let d = b - a;
  if (d > 180) d -= 360;
  if (d < -180) d += 360;
  const h = a + d * t;
  return h < 0 ? h + 360 : h >= 360 ? h - 360 : h;
}

/** One step of wandering for agent `i`, bouncing off the walls. */
function move(world: World, i: number, rand: () => number): void {
  const turn = (rand() - 0.5) * 0.3;
  const c = Math.cos(turn);
  const s = Math.sin(turn);
  const vx = world.vx[i] * c - world.vy[i] * s;
  const vy = world.vx[i] * s + world.vy[i] * c;
  world.vx[i] = vx;
  world.vy[i] = vy;
  let x = world.x[i] + vx;
  let y = world.y[i] + vy;
  if (x < 0 || x >= world.width) {
    world.vx[i] = -vx;
    x = Math.min(Math.max(x, 0), world.width - 1);
  }
  if (y < 0 || y >= world.height) {
    world.vy[i] = -vy;
    y = Math.min(Math.max(y, 0), world.height - 1);
  }
  world.x[i] = x;
  world.y[i] = y;
}

/** The nearest of a few randomly picked agents other than `me`. */
function pickPeer(world: World, me: number, rand: () => number): number {
  let best = -1;
  let bestDistance = Infinity;
  for (let k = 0; k < 24; k++) {
    const j = Math.floor(rand() * world.count);
    if (j === me) continue;
    const dx = world.x[j] - world.x[me];
    const dy = world.y[j] - world.y[me];
    const distance = dx * dx + dy * dy;
    if (distance < bestDistance) {
      bestDistance = distance;
      best = j;
    }
  }
  return best === -1 ? (me + 1) % world.count : best;
}

export function listener(world: World, me: number): void {
  'use tasklet';
  const inbox = world.inbox[me];
  for (;;) {
    const question = inbox.receive();
    question.reply.send(world.hue[me]);
    world.hue[me] = mixHue(world.hue[me], question.hue, 0.2);
  }
}

export function talker(world: World, me: number, stepMs: number, seed: number): void {
  'use tasklet';
  const rand = random(seed);
  const reply = new Channel<number>();
  for (let step = 0; ; step++) {
    move(world, me, rand);
    world.steps++;
    if (rand() < 0.08) {
      const peer = pickPeer(world, me, rand);
      world.inbox[peer].send({ from: me, hue: world.hue[me], reply });
      const answer = reply.receive();
      world.hue[me] = mixHue(world.hue[me], answer, 0.2);
      world.messages += 2;
      const slot = world.linkCount++ % (world.links.length / 2);
      world.links[2 * slot] = me;
      world.links[2 * slot + 1] = peer;
    }
    sleep(stepMs);
  }
}
