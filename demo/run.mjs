// npm run demo [-- workflow | ring | all]
//
//   workflow (default)  a durable workflow on the embedded SQLite store is killed with
//                       kill -9 mid-way and resumes in a fresh process (demo/durable.mjs)
//   ring                100,000 tasklets pass a token around a ring of channels, next to
//                       the same ring in async/await (demo/ring-demo.mjs; takes its
//                       options: --n=100000 --laps=10 --runs=3)
//   all                 both
const parts = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const which = parts[0] ?? 'workflow';
if (parts.length > 1 || !['workflow', 'ring', 'all'].includes(which)) {
  console.error(`demo: unknown part '${parts.join(' ')}' (use: npm run demo -- workflow | ring | all)`);
  process.exit(2);
}
if (which === 'workflow' || which === 'all') {
  const { durableDemo } = await import('./durable.mjs');
  const code = await durableDemo();
  if (code !== 0) process.exit(code);
}
if (which === 'all') console.log('');
if (which === 'ring' || which === 'all') await import('./ring-demo.mjs');
