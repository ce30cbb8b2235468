/**
 * Build tools' output made readable (src/build/build-output.ts): escapes,
 * Rust backtraces and repeats go; the plugin's position is found in what
 * componentize-js and componentize-py print; a hint comes only with an error
 * it explains. The samples are what the tools printed (captured from real
 * builds, host paths shortened).
 */
import test from 'ava';
import { cleanDockerOutput, cleanToolOutput, dockerStepFailure, explainComponentizeJs, explainComponentizePy } from '../../src/build/build-output.ts';

test('build output: ANSI escapes and control characters are removed', (t) => {
  t.is(cleanToolOutput('\x1b[1m\x1b[31merror\x1b[0m: bad\x1b]8;;http://x\x07link\x1b]8;;\x07\r\n\x00done'), 'error: badlink\ndone');
});

test('build output: a Rust backtrace and its RUST_BACKTRACE note are dropped, the panic and what follows kept', (t) => {
  const text = [
    "thread 'main' panicked at src/summary.rs:46:13:",
    'no module named plugin',
    'stack backtrace:',
    '   0: rust_begin_unwind',
    '             at /rustc/abc/library/std/src/panicking.rs:652:5',
    '   1: core::panicking::panic_fmt',
    '             at /rustc/abc/library/core/src/panicking.rs:72:14',
    'note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.',
    'Error: componentize failed',
    '',
    'Caused by:',
    '    0: first cause',
    '    1: second cause',
  ].join('\n');
  t.is(
    cleanToolOutput(text),
    "thread 'main' panicked at src/summary.rs:46:13:\nno module named plugin\nError: componentize failed\n\nCaused by:\n    0: first cause\n    1: second cause",
  );
});

test('build output: a run of equal lines is kept once, and a long line printed again later is dropped', (t) => {
  const run = 'RUN pip install --no-cache-dir -r requirements.txt --target /airlock/site';
  t.is(cleanToolOutput(`a\na\na\n${run}\nERROR: no such package\n${run}\n  ^\n  ^`), `a\n${run}\nERROR: no such package\n  ^`);
});

test("Docker build output: the RUN line is not repeated in Docker's reason; container ids and pip progress bars go", (t) => {
  const step = 'RUN pip install -r requirements.txt';
  t.is(dockerStepFailure(step, "The command '/bin/sh -c pip install -r requirements.txt' returned a non-zero code: 1"), 'the command exited with code 1');
  t.is(dockerStepFailure(step, 'no space left'), 'no space left');
  t.is(
    cleanDockerOutput(
      ' ---> Running in f092474ee11d\nCollecting humanize==4.9.0\n     ━━━━━━━━━━━━━━━━━━━━━━ 126.8/126.8 kB 252.3 MB/s eta 0:00:00\nERROR: No matching distribution found for reqeusts\nRemoving intermediate container f092474ee11d',
    ),
    'Collecting humanize==4.9.0\nERROR: No matching distribution found for reqeusts',
  );
});

const JS_SYNTAX = `Failed to initialize component (wizer (/work/main/node_modules/@bytecodealliance/wizer-linux-x64/wizer)):
Exception while evaluating top-level script
plugin.js:2:28 SyntaxError: missing ) after argument list:
plugin.js:2:28   throw new TypeError(\`bad\`;
plugin.js:2:28 ...........................^
`;

test('componentize-js: a syntax error is a problem at file:line:column with the source excerpt, and no export hint', (t) => {
  const x = explainComponentizeJs('/p', 'plugin.js', '__airlock_guest.js', JS_SYNTAX);
  t.is(x.message, 'plugin.js:2:28: SyntaxError: missing ) after argument list');
  t.like(x.problem, { file: '/p/plugin.js', line: 2, column: 28, hint: 'fix the syntax error at that position' });
  t.is(x.problem!.message, 'SyntaxError: missing ) after argument list');
  t.deepEqual(x.problem!.excerpt?.length, 2);
  t.regex(x.problem!.excerpt?.[0] ?? '', /^ {2}throw new TypeError\(`bad`;$/);
  t.regex(x.problem!.excerpt?.[1] ?? '', /^\.+\^$/);
  t.false(/export/.test(x.hint ?? ''));
});

test('componentize-js: a missing `tools` export (thrown by the guest wrapper) is about the entry, with the export hint', (t) => {
  const x = explainComponentizeJs(
    '/p',
    'src/main.js',
    '__airlock_guest.js',
    'Exception while evaluating top-level script\n__airlock_guest.js:5:9 Error: src/main.js does not export `tools` with a `call(name, input)` method\n',
  );
  t.like(x.problem, { file: '/p/src/main.js', line: undefined });
  t.regex(x.hint ?? '', /export const tools/);
});

test('componentize-js: a top-level exception gets the pre-initialization hint, not the export one', (t) => {
  const x = explainComponentizeJs('/p', 'plugin.js', '__airlock_guest.js', 'plugin.js:2:1 TypeError: can\'t access property "foo", x is null\n');
  t.like(x.problem, { line: 2, column: 1 });
  t.regex(x.hint ?? '', /top-level code ran at build time/);
});

test('componentize-js: output it cannot place keeps its text, without a hint it cannot back', (t) => {
  const x = explainComponentizeJs('/p', 'plugin.js', '__airlock_guest.js', 'Error: out of disk\n');
  t.is(x.message, 'Error: out of disk');
  t.is(x.hint, undefined);
  t.is(x.problem, undefined);
});

const PY_LAUNCHER = `Traceback (most recent call last):
  File "/root/.pyenv/versions/3.11.7/bin/componentize-py", line 8, in <module>
    sys.exit(script())
             ^^^^^^^^
AssertionError: Traceback (most recent call last):
  File "/0/_airlock_guest.py", line 9, in <module>
    import plugin as _guest
`;

test("componentize-py: a syntax error is a problem at the plugin's file and line, past the launcher's frames", (t) => {
  const out = `${PY_LAUNCHER}  File "/0/plugin.py", line 1
    def f(:
          ^
SyntaxError: invalid syntax


Caused by:
    SyntaxError: invalid syntax (plugin.py, line 1)
`;
  const x = explainComponentizePy('/p', 'plugin.py', '_airlock_guest.py', out);
  t.like(x.problem, { file: '/p/plugin.py', line: 1, message: 'SyntaxError: invalid syntax (plugin.py, line 1)', hint: 'fix the syntax error at that line' });
});

test('componentize-py: the Tools hint only for a missing Tools class; a missing module gets its own', (t) => {
  const noTools = explainComponentizePy(
    '/p',
    'plugin.py',
    '_airlock_guest.py',
    `${PY_LAUNCHER}TypeError: plugin.py does not define class Tools with a call method\n\n\nCaused by:\n    TypeError: plugin.py does not define class Tools with a call method\n`,
  );
  t.like(noTools.problem, { file: '/p/plugin.py', line: undefined });
  t.regex(noTools.hint ?? '', /class Tools\(exports\.Tools\)/);
  const noModule = explainComponentizePy(
    '/p',
    'plugin.py',
    '_airlock_guest.py',
    `${PY_LAUNCHER}  File "/0/plugin.py", line 1, in <module>\n    import requests\nModuleNotFoundError: No module named 'requests'\n`,
  );
  t.like(noModule.problem, { file: '/p/plugin.py', line: 1 });
  t.notRegex(noModule.hint ?? '', /class Tools/);
  const raised = explainComponentizePy('/p', 'plugin.py', '_airlock_guest.py', `${PY_LAUNCHER}  File "/0/lib/util.py", line 4, in f\nRuntimeError: top\n`);
  t.like(raised.problem, { file: '/p/lib/util.py', line: 4, message: 'RuntimeError: top' });
  t.notRegex(raised.hint ?? '', /class Tools/);
});

test('componentize-py: 1 MiB of whitespace-only lines a plugin printed at build time is read in one linear pass, and its real frame still found', (t) => {
  // Lines of spaces and tabs survive the cleaning (no two neighbours alike); a `^\s*` that also eats newlines
  // rescanned them from every line start: quadratic, minutes on the host's main thread for this input.
  const flood = '\t\n \n'.repeat(256 * 1024);
  const out = `${flood}x\n  File "/3/plugin.py", line 7, in <module>\nValueError: no\n`;
  const x = explainComponentizePy('/p', 'plugin.py', '_airlock_guest.py', out);
  t.like(x.problem, { file: '/p/plugin.py', line: 7 });
});
