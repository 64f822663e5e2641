/**
 * Ordinary code: creates the world, spawns two tasklets per agent and pumps the scheduler
 * from requestAnimationFrame: every frame, `run()` runs every tasklet that is runnable until
 * all of them are blocked on a channel or asleep (the talkers sleep between steps; a woken
 * sleeper waits for the next frame), then the world is drawn.
 */
import { run, spawn } from 'stackless';
import { createWorld, listener, random, talker, type World } from './agents';

const params = new URLSearchParams(location.search);
const agentCount = Math.max(2, Number(params.get('agents') ?? 2000) | 0);
const stepMs = Math.max(0, Number(params.get('step') ?? 16));

const canvas = document.getElementById('world') as HTMLCanvasElement;
const context = canvas.getContext('2d') as CanvasRenderingContext2D;
const text = (id: string, value: string | number) => {
  (document.getElementById(id) as HTMLElement).textContent = String(value);
};

const rand = random(2026);
const world = createWorld(agentCount, canvas.width, canvas.height, rand);
for (let i = 0; i < agentCount; i++) {
  spawn(listener, world, i);
  spawn(talker, world, i, stepMs, Math.floor(rand() * 2 ** 32));
}
text('agents', agentCount);
text('tasklets', 2 * agentCount);
text('status', 'running');

/**
 * Runs the runnable tasklets. `timeout` (in ticks) preempts a tasklet that computes too
 * long without switching: run() then returns it, and it goes back to the end of the queue
 * so the others get their turn. A frame stops running tasklets after `budgetMs`.
 */
function runTasklets(budgetMs: number): void {
  const end = performance.now() + budgetMs;
  for (;;) {
    const preempted = run({ timeout: 100_000 });
    if (preempted === null) return;
    preempted.insert();
    if (performance.now() > end) return;
  }
}

let frames = 0;
let failed = false;
function frame(): void {
  try {
    runTasklets(10);
  } catch (error) {
    failed = true;
    text('status', `failed: ${error instanceof Error ? error.message : String(error)}`);
    (document.getElementById('status') as HTMLElement).className = 'failed';
    console.error(error);
  }
  draw(world);
  if (!failed) requestAnimationFrame(frame);
}

function draw(w: World): void {
  context.fillStyle = 'rgba(10, 13, 16, 0.35)'; // fade: agents leave short trails
  context.fillRect(0, 0, w.width, w.height);

  // the most recent conversations, older ones fainter
  const ring = w.links.length / 2;
  const shown = Math.min(w.linkCount, ring);
  context.lineWidth = 1;
  for (let k = 0; k < shown; k++) {
    const slot = (w.linkCount - 1 - k) % ring;
    const a = w.links[2 * slot];
    const b = w.links[2 * slot + 1];
    context.strokeStyle = `hsla(${w.hue[a] | 0}, 90%, 70%, ${0.6 * (1 - k / shown)})`;
    context.beginPath();
    context.moveTo(w.x[a], w.y[a]);
    context.lineTo(w.x[b], w.y[b]);
    context.stroke();
  }

  for (let i = 0; i < w.count; i++) {
    context.fillStyle = `hsl(${w.hue[i] | 0}, 80%, 60%)`;
    context.fillRect(w.x[i] - 1.5, w.y[i] - 1.5, 3, 3);
  }

  frames++;
  text('messages', w.messages);
  text('frames', frames);
}
requestAnimationFrame(frame);
