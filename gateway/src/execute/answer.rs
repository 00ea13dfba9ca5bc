//! What a tool call answers: a tree, or (a list on the direct path) the
//! answer's bytes, written while the upstream's answer was parsed
//! ([`crate::jsonapi_parse::written`]), so no tree is built, measured,
//! written and freed only to produce those bytes.

use serde_json::Value;

pub use crate::jsonapi_parse::written::WrittenAnswer;

#[derive(Debug)]
pub enum ToolAnswer {
    Tree(Value),
    /// Already within the result budget, under every output rule.
    Written(WrittenAnswer),
}

impl ToolAnswer {
    /// The answer as a tree (a written one parsed back: only where a caller
    /// needs a tree after all, never on the path that writes it).
    pub fn into_value(self) -> Value {
        match self {
            ToolAnswer::Tree(v) => v,
            ToolAnswer::Written(w) => w.into_value(),
        }
    }
}

impl WrittenAnswer {
    /// The structured content, parsed back.
    pub fn into_value(self) -> Value {
        // Written by us as JSON: it parses (a float may come back one unit
        // in the last place off, as any JSON text read by serde_json).
        serde_json::from_slice(&self.structured()).unwrap_or(Value::Null)
    }
}
