import { Worker } from 'worker_threads';
import { workerExecArgv } from './exec-argv';

describe('workerExecArgv', () => {
  it('given npm start\'s heap flag beside a require hook, when filtered, then only the hook is passed on', () => {
    expect(workerExecArgv(['--max-semi-space-size=64', '-r', 'some-hook', '--enable-source-maps', '--max-old-space-size=4096'])).toEqual(['-r', 'some-hook', '--enable-source-maps']);
  });

  it('given the filtered flags, when a worker starts with them, then it runs (the raw flag is refused)', async () => {
    const run = (execArgv: string[]) =>
      new Promise<string>((resolve) => {
        try {
          const w = new Worker('require("worker_threads").parentPort.postMessage("ok")', { eval: true, execArgv });
          w.once('message', (m) => resolve(String(m)));
          w.once('error', (e) => resolve(`error: ${e.message}`));
        } catch (e) {
          resolve(`throws: ${(e as Error).message}`);
        }
      });
    expect(await run(['--max-semi-space-size=64'])).toMatch(/invalid execArgv/);
    expect(await run(workerExecArgv(['--max-semi-space-size=64']))).toBe('ok');
    expect(await run(['--heap-growing-percent=100'])).toMatch(/invalid execArgv/);
    expect(await run(workerExecArgv(['--heap-growing-percent=100']))).toBe('ok');
  });
});
