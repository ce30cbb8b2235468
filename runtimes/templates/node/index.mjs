// {{name}}: an Airlock plugin for Node.js.
//
// Each tool in plugin.yaml is the exported function of the same name. It gets
// the tool's input (already checked against its `input` schema) and returns
// the result (any JSON value, or a promise of one). Throw an error with a
// `code` for a failure the caller should see (it arrives as a `plugin-error`
// with your code). console output is returned with the call, as its logs.

export function hello({ name }) {
  return { greeting: `Hello, ${name}!` };
}
