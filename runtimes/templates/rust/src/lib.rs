//! {{name}}: an Airlock plugin in Rust.
//!
//! Airlock calls `call(name, input)` with a tool name from plugin.yaml and
//! that tool's input as JSON text, already checked against the tool's `input`
//! schema. Return the result as JSON text, or a `ToolError { code, message }`
//! for a failure the caller should see (it arrives as a `plugin-error` with
//! your code). `airlock build` runs cargo for wasm32-wasip2.

wit_bindgen::generate!({ path: "wit", world: "plugin" });

use exports::airlock::plugin::tools::{Guest, ToolError};
use serde_json::{json, Value};

struct Plugin;

fn error(code: &str, message: String) -> ToolError {
    ToolError { code: code.into(), message }
}

impl Guest for Plugin {
    fn call(name: String, input: String) -> Result<String, ToolError> {
        let args: Value = serde_json::from_str(&input).map_err(|e| error("invalid-input", e.to_string()))?;
        match name.as_str() {
            "hello" => {
                let who = args["name"].as_str().unwrap_or("world");
                Ok(json!({ "greeting": format!("Hello, {who}!") }).to_string())
            }
            _ => Err(error("not-found", format!("no tool named {name}"))),
        }
    }
}

export!(Plugin);
