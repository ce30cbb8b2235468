// {{name}}: an Airlock plugin in JavaScript.
//
// Airlock calls `tools.call(name, input)` with a tool name from plugin.yaml and
// that tool's input as JSON text, already checked against the tool's `input`
// schema. Return the result as JSON text; throw {code, message} for a failure
// the caller should see (it arrives as a `plugin-error` with your code). Any
// other error thrown arrives as a `plugin-error` with its type, message and line.
export const tools = {
  call(name, input) {
    const args = JSON.parse(input);
    switch (name) {
      case 'hello':
        return JSON.stringify({ greeting: `Hello, ${args.name}!` });
      default:
        throw { code: 'not-found', message: `no tool named ${name}` };
    }
  },
};
