"""Airlock build helper: turns a plugin's dependency file into a plain requirements list.

Runs during the image build (src/engines/docker/build.ts), before any plugin file other than the dependency
file is in the image. It only reads that file; it never imports, builds or runs the plugin. Its output is
installed with `pip install --only-binary=:all:`, so no package's setup.py or build backend runs either.

    python3 requirements.py FILE OUT [NAME]    FILE a requirements file, or a pyproject.toml whose
                                               [project].dependencies are read (the project is not built);
                                               NAME is the file's name in the plugin folder, for messages

What is refused, with the line it is on:
  - pip options (-r, -e, -c, --index-url, --no-binary, ...): they could pull other files, point pip at other
    indexes or undo --only-binary. Indexes are the host's (build args); `--hash=` is kept.
  - direct references (`name @ https://...`, local paths): pip builds those from source.
  - environment variable references (`${NAME}`): pip expands them in a requirements file with the build's
    environment (proxy settings, index credentials), which would send them wherever the line points.
"""
import re
import sys
import tomllib

try:
    from packaging.requirements import InvalidRequirement, Requirement
except ImportError:  # the usual case: pip's own copy
    from pip._vendor.packaging.requirements import InvalidRequirement, Requirement

HASH = re.compile(r"(?:^|\s)--hash[=\s]+([A-Za-z0-9]+:[A-Fa-f0-9]+)")


def fail(source, message):
    print(f"airlock: {source}: {message}", file=sys.stderr)
    sys.exit(1)


def check(source, spec):
    if "${" in spec:
        fail(source, f"{spec!r} refers to an environment variable; pip would expand it with the build's environment (proxy settings, index credentials): write the value itself")
    try:
        req = Requirement(spec)
    except InvalidRequirement as e:
        fail(source, f"invalid requirement {spec!r} ({e})")
    if req.url:
        fail(source, f"{spec!r} is a direct reference; Airlock installs only released wheels from the package index (write e.g. `{req.name}==1.2.3`)")
    return str(req)


def from_requirements(path, name):
    out = []
    # Backslash continuations (pip-compile's hash lines) make one logical line.
    text = re.sub(r"\\\r?\n", " ", open(path, encoding="utf-8").read())
    for n, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(?:^|\s)#.*$", "", raw).strip()
        if not line:
            continue
        hashes = HASH.findall(line)
        spec = HASH.sub(" ", line).strip()
        if spec.startswith("-") or re.search(r"\s--?[A-Za-z]", spec):
            fail(f"{name} line {n}", f"pip options are not accepted in a plugin's requirements ({spec.split()[0]!r}); list packages only, e.g. `humanize==4.9.0`")
        out.append(" ".join([check(f"{name} line {n}", spec), *(f"--hash={h}" for h in hashes)]))
    return out


def from_pyproject(path, name):
    with open(path, "rb") as f:
        try:
            data = tomllib.load(f)
        except tomllib.TOMLDecodeError as e:
            fail(name, f"not valid TOML: {e}")
    project = data.get("project", {})
    deps = project.get("dependencies", []) if isinstance(project, dict) else []
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        fail(name, "[project].dependencies must be a list of strings")
    return [check(f"{name} [project].dependencies[{i}]", d) for i, d in enumerate(deps)]


def main():
    source, out = sys.argv[1], sys.argv[2]
    name = sys.argv[3] if len(sys.argv) > 3 else source
    reqs = from_pyproject(source, name) if name.endswith(".toml") else from_requirements(source, name)
    with open(out, "w", encoding="utf-8") as f:
        f.write("".join(r + "\n" for r in reqs))
    print(f"airlock: {len(reqs)} requirement(s) from {name}")


main()
