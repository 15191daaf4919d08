// s3rver on a thread of its own: the S3 emulator's request handling, file I/O and MD5s then run
// beside the platform's handlers instead of on their event loop, as S3 is a service apart in AWS.
// Plain JavaScript so the thread starts without a TypeScript loader (tsx, vitest or node alike).
import { parentPort, workerData } from 'node:worker_threads';
import S3rver from 's3rver';

const { port, dataDir } = workerData;
const server = new S3rver({ address: '127.0.0.1', port, directory: dataDir, silent: true, configureBuckets: [], allowMismatchedSignatures: false });

// s3rver emits S3 event notifications; they stand in for S3 → EventBridge → SQS.
server.on('event', (event) => {
  for (const r of event.Records ?? []) {
    const bucket = r.s3?.bucket?.name;
    const key = r.s3?.object?.key;
    if (r.eventName?.startsWith('ObjectCreated') && bucket && key) parentPort.postMessage({ type: 'object-created', bucket, key });
  }
});

parentPort.on('message', (m) => {
  if (m?.type !== 'stop') return;
  server.close().then(
    () => parentPort.postMessage({ type: 'stopped' }),
    (e) => parentPort.postMessage({ type: 'stopped', error: String(e?.message ?? e) }),
  );
});

server.run().then(
  () => parentPort.postMessage({ type: 'ready' }),
  (e) => parentPort.postMessage({ type: 'failed', error: String(e?.message ?? e) }),
);
