//! Parsing an upstream answer into a `serde_json::Value`: the same tree
//! `serde_json::from_slice::<Value>` gives, for less. The text is checked
//! as UTF-8 once as a whole (a fast pass over the bytes), which lets
//! serde_json skip checking every string on its own.
//!
//! (Building each object's map in one go, from its collected members,
//! was measured too: more instructions than `Value`'s own member-by-member
//! inserts, so it is not done.)

use serde_json::Value;

/// Parses `bytes` as one JSON value, as `serde_json::from_slice::<Value>`
/// does (same tree, same errors for what it refuses).
pub fn parse(bytes: &[u8]) -> serde_json::Result<Value> {
    match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text),
        // Not UTF-8: serde_json says where and why.
        Err(_) => serde_json::from_slice(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same_as_serde_json(text: &[u8]) {
        match (parse(text), serde_json::from_slice::<Value>(text)) {
            (Ok(ours), Ok(theirs)) => assert_eq!(ours, theirs, "{}", String::from_utf8_lossy(text)),
            (Err(ours), Err(theirs)) => assert_eq!(ours.to_string(), theirs.to_string()),
            (ours, theirs) => panic!("{}: {ours:?} vs {theirs:?}", String::from_utf8_lossy(text)),
        }
    }

    #[test]
    fn the_same_trees_as_serde_json() {
        for text in [
            r#"{"data":{"id":"ws-1","type":"workspaces","attributes":{"name":"café","n":[1,-2,2.5e3,null,true,{}],"z":{},"a":[]}}}"#,
            r#"{"b":1,"a":2,"b":3,"c":{"x":1,"x":{"y":[1,2]}},"a":null}"#,
            r#"[{"k":"\u00e9\n\"q\""},18446744073709551615,-9223372036854775808,1e308,0.1,-0.0]"#,
            r#""just a string""#,
            "  42  ",
            "null",
            r#"{"big":1e400}"#,
        ] {
            same_as_serde_json(text.as_bytes());
        }
    }

    #[test]
    fn the_same_refusals_as_serde_json() {
        for text in [&b"{\"a\":"[..], b"{\"a\":1} x", b"[1,]", b"{\"a\"}", b"\"\xff\"", b"", b"{\"a\":\"\\ud800\"}", b"[nan]"] {
            same_as_serde_json(text);
        }
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        same_as_serde_json(deep.as_bytes());
    }

    #[test]
    fn the_recorded_samples_parse_alike() {
        for (_, answer) in crate::test_samples::recorded_answers() {
            same_as_serde_json(&answer);
        }
    }
}
