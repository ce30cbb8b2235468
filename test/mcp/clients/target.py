"""The server a client script drives, from its command line, the same way for every client script.

<tool> <json-arguments> -- <server command> [args...]   start the server and talk over stdio
<tool> <json-arguments> --url <url> --token <token>     talk streamable HTTP to a running server
"""
import json
import sys
from dataclasses import dataclass, field


@dataclass
class Target:
    tool: str
    arguments: dict
    # stdio
    command: str = ""
    args: list = field(default_factory=list)
    # streamable HTTP
    url: str = ""
    headers: dict = field(default_factory=dict)

    @property
    def http(self) -> bool:
        return self.url != ""


def target() -> Target:
    argv = sys.argv[1:]
    t = Target(tool=argv[0], arguments=json.loads(argv[1]))
    rest = argv[2:]
    if rest[:1] == ["--"]:
        t.command, t.args = rest[1], rest[2:]
    elif rest[:1] == ["--url"] and rest[2:3] == ["--token"]:
        t.url, t.headers = rest[1], {"Authorization": f"Bearer {rest[3]}"}
    else:
        sys.exit(f"usage: {sys.argv[0]} <tool> <json> (-- <command...> | --url <url> --token <token>)")
    return t
