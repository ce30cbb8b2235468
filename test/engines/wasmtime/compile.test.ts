import test from 'ava';
import { networkWasmtimeImports } from '../../../src/capabilities/network/wasmtime.ts';
import { unlinkableImports } from '../../../src/engines/wasmtime/compile.ts';

test('WASI 0.2 imports link; anything else is named', (t) => {
  t.deepEqual(
    unlinkableImports([
      'wasi:cli/environment@0.2.12',
      'wasi:io/streams@0.2.0',
      'wasi:filesystem/preopens@0.2.3',
      'wasi:sockets/tcp@0.2.0',
      'wasi:http/types@0.2.10',
      'acme:secret/backdoor@1.0.0',
      'wasi:cli/environment@0.3.0',
    ]),
    ['acme:secret/backdoor@1.0.0', 'wasi:cli/environment@0.3.0'],
  );
});

test('wasi:http/types alone turns -S http on (no handler, no I/O); the outgoing handler is refused', (t) => {
  t.deepEqual(networkWasmtimeImports(['wasi:cli/stdout@0.2.12']), {});
  t.deepEqual(networkWasmtimeImports(['wasi:http/types@0.2.10', 'wasi:io/poll@0.2.12']), { args: ['-S', 'http=y'] });
  const r = networkWasmtimeImports(['wasi:http/types@0.2.10', 'wasi:http/outgoing-handler@0.2.10']);
  t.is(r.args, undefined);
  t.regex(r.refuse?.[0] ?? '', /outgoing-handler.*allowlist/);
});
