"""{{name}}: an Airlock plugin for Python.

Each tool in plugin.yaml is the module-level function of the same name. It
gets the tool's input (a dict, already checked against its `input` schema)
and returns the result (any JSON value; `async def` works too). Raise an
exception with a `code` attribute for a failure the caller should see (it
arrives as a `plugin-error` with your code). print() output is returned with
the call, as its logs.
"""


def hello(input):
    return {"greeting": f"Hello, {input['name']}!"}
