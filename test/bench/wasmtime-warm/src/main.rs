//! A warm wasmtime process (a measurement for issue 21 item 5, not used by the engine): one
//! instance of the plugin serves calls read from stdin. Composed with a plugin by
//! `wac plug adapter.wasm --plug plugin.wasm` (see ../wasmtime-warm.ts).
//!
//! Protocol: stdin: first line a nonce, then per call `<tool-len> <input-len>\n<tool><input>`;
//! stdout: the guest's own prints, then per call `\n<nonce> ok|err <len>\n<payload>` (the nonce
//! keeps a guest from forging a frame without reading stdin).
//!
//! What the engine would still need before it could offer this:
//! - the plugin and the adapter share wasi:cli/stdin and stdout once composed, so the plugin can
//!   read the call stream (`-S inherit-stdin=y` is required) and print into the reply stream:
//!   the adapter must give the plugin its own stdio (virtualized, e.g. wasi-virt composed in
//!   between) or talk to the host on another channel;
//! - `-W timeout` is one deadline for the whole process: a call's timeout becomes a kill of the
//!   warm process (and its restart), as the slot pool already does for a process;
//! - state survives calls (isolation `warm`, like the worker engine's), memory only grows up to
//!   `-W max-memory-size`;
//! - wac (crates.io: wac-cli) or its library at load time, and this adapter built and shipped
//!   (cargo, wasm32-wasip2), both installed by CI;
//! - one process per slot (calls are sequential in one instance), traps and exits classified
//!   from the stream rather than from one process's exit.
wit_bindgen::generate!({ world: "adapter", path: "wit", generate_all });
use airlock::plugin::tools::call;
use std::io::{BufRead, Read, Write};

fn main() {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut nonce = String::new();
    if input.read_line(&mut nonce).unwrap_or(0) == 0 { return; }
    let nonce = nonce.trim_end().to_string();
    let mut header = String::new();
    loop {
        header.clear();
        if input.read_line(&mut header).unwrap_or(0) == 0 { return; }
        let mut parts = header.split_whitespace().map(|p| p.parse::<usize>().unwrap_or(0));
        let (tl, il) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        let mut buf = vec![0u8; tl + il];
        if input.read_exact(&mut buf).is_err() { return; }
        let tool = String::from_utf8_lossy(&buf[..tl]).into_owned();
        let arg = String::from_utf8_lossy(&buf[tl..]).into_owned();
        let (kind, payload) = match call(&tool, &arg) {
            Ok(v) => ("ok", v),
            Err(e) => ("err", format!("{}\n{}", e.code, e.message)),
        };
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "\n{} {} {}\n{}", nonce, kind, payload.len(), payload);
        let _ = out.flush();
    }
}
