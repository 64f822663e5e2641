// Ordinary code: the entry point of the program. It runs in the main tasklet, which may block
// on channels and in schedule() (the scheduler runs the others meanwhile) but cannot wait
// for the event loop: sleep() and wait() throw there.
import { Channel, Tasklet, atomic, run, sleep, spawn } from 'stackless';
import { ask, fetchLater, shout } from './marked.js';
import { Agent, drain, napper, producer, receiveEach, relay, sum, viaCall, yielder } from './tasklets.js';

const numbers = new Channel<number>();
const words = new Channel<string>();

spawn(producer, numbers, 3);
new Tasklet(relay).setup(numbers, 2);
new Tasklet().bind(drain, [numbers]);
console.log(sum([1, 2, 3]));
// the main tasklet may block on channels, also inside tasklet functions it calls
relay(numbers, 1);
viaCall(numbers);
receiveEach([numbers]);
const agent = new Agent(words);
console.log(agent.label(), agent.next(), ask(words));
const loud = shout(words);
void fetchLater();
setTimeout(yielder, 10);
atomic(yielder);

// ... but it cannot wait for the event loop
napper(); // expect SL2004
sleep(5); // expect SL2004
setTimeout(napper, 10); // expect SL2004
[1, 2].forEach(napper); // expect SL2004
atomic(napper); // expect SL2004

/** Only hands its argument on to spawn(): passing a tasklet function that waits is fine. */
function startLater(fn: () => void): void {
  spawn(fn);
}
startLater(napper);

function callNow(fn: () => void): void {
  fn();
}
callNow(yielder);
callNow(napper); // expect SL2004

spawn(() => {
  numbers.send(1); // expect SL2003
});
spawn(() => console.log(loud)); // ordinary, does not block: fine

function main(): void {
  napper(); // expect SL2004
}
main();
run();
