/**
 * Installs `Promise.withResolvers` (ES2024) when the runtime lacks it (Node 20).
 *
 * aws-local-stepfunctions 3.0.0 calls it in every Task state; without it each Task fails with a
 * TypeError that a `Catch: States.ALL` silently turns into the failure branch.
 */
export function installPromiseWithResolvers(): void {
  const P = Promise as unknown as { withResolvers?: unknown };
  if (typeof P.withResolvers === 'function') return;
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>(this: PromiseConstructor) {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      // `this` keeps subclass semantics, like the native method.
      const promise = new this<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}
