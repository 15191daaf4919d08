import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { connect, createServer } from 'node:net';

/** Resolves when something accepts TCP connections on 127.0.0.1:port, or rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`process exited with code ${child.exitCode} before listening on ${port}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A child process that is killed with its process group on stop. */
export interface ManagedProcess {
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Spawns a long-running child; its output goes to `onOutput` (kept out of the console unless asked). */
export function spawnManaged(command: string, args: string[], options: SpawnOptions, onOutput?: (line: string) => void): ManagedProcess {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'], detached: false });
  // If this process dies without stopping its children (SIGKILL, crash), a watchdog stops them:
  // emulators must never outlive the platform that started them.
  const watchdog = child.pid
    ? spawn('sh', ['-c', `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${child.pid} 2>/dev/null; do sleep 1; done; kill ${child.pid} 2>/dev/null`], { stdio: 'ignore', detached: true })
    : undefined;
  watchdog?.unref();
  const forward = (buf: Buffer) => {
    for (const line of buf.toString('utf8').split('\n')) if (line.trim()) onOutput?.(line);
  };
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  return {
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          watchdog?.kill();
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** A TCP port free on 127.0.0.1 right now (the OS picks it), for emulators started by tests and benchmarks. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}
