/** The Pod's stdin as the attach stream carries it (src/engines/kubernetes/pod.ts), without a cluster. */
import { PassThrough } from 'node:stream';
import test from 'ava';
import { writeSliced } from '../../../src/engines/kubernetes/pod.ts';

/** The chunks a reader of `stdin` gets (client-node sends each as one websocket message). */
function chunksOf(line: string): Buffer[] {
  const stdin = new PassThrough();
  const chunks: Buffer[] = [];
  stdin.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
  writeSliced(stdin, line);
  return chunks;
}

test('a request line past 32 MiB reaches the stream as chunks of at most 1 MiB, byte for byte (the API server drops larger messages)', (t) => {
  // Multi-byte characters across the slice boundaries: the bytes are split, and join back to the same text.
  const line = `${JSON.stringify({ text: 'é✓'.repeat(7 << 20) })}\n`;
  const chunks = chunksOf(line);
  t.true(chunks.length > 32, `${chunks.length} chunks`);
  t.true(chunks.every((c) => c.length <= 1 << 20));
  t.is(Buffer.concat(chunks).toString('utf8'), line);
});

test('a short request line is one chunk', (t) => {
  const line = '{"type":"call","tool":"echo"}\n';
  t.deepEqual(
    chunksOf(line).map((c) => c.toString()),
    [line],
  );
});
