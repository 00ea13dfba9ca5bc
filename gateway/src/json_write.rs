//! Compact JSON of a `serde_json::Value`, byte for byte what
//! `serde_json::to_vec` writes, for less: every answer is written twice
//! (structured content and its text block) and measured once (the result
//! budget), and serde_json spends most of that on a few writes per string.
//! Here a string is one reserve and one scan, the two writings are one walk,
//! and lengths are counted without writing anything.

use serde_json::Value;

/// Appends `v` as compact JSON; with `skip_nulls`, object members whose
/// value is null are left out (array items are kept, so positions stay
/// meaningful).
pub fn write_value(out: &mut Vec<u8>, v: &Value, skip_nulls: bool) {
    write_json(out, v, skip_nulls);
}

/// Appends to `text` what [`write_str`] writes of the text [`write_value`]
/// makes of `v` without nulls, but the two enclosing quotes, and to
/// `structured` what [`write_value`] makes of `v` with them: a result's text
/// block and its structured content, in one walk of `v` that scans each
/// string once for escapes.
pub fn write_text_and_value(text: &mut Vec<u8>, structured: &mut Vec<u8>, v: &Value) {
    fn both(bytes: &[u8], text: &mut Vec<u8>, structured: &mut Vec<u8>) {
        text.extend_from_slice(bytes);
        structured.extend_from_slice(bytes);
    }
    match v {
        Value::Null | Value::Bool(_) | Value::Number(_) => {
            // Nothing in a literal or a number changes when quoted.
            let start = structured.len();
            write_json(structured, v, false);
            text.extend_from_slice(&structured[start..]);
        }
        Value::String(s) => write_string_twice(text, structured, s),
        Value::Array(items) => {
            both(b"[", text, structured);
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    both(b",", text, structured);
                }
                write_text_and_value(text, structured, item);
            }
            both(b"]", text, structured);
        }
        Value::Object(members) => {
            both(b"{", text, structured);
            let members = members.iter().map(|(name, value)| (name.as_str(), value));
            write_members_twice(text, structured, members, |value| value.is_null(), write_text_and_value);
            both(b"}", text, structured);
        }
    }
}

/// An object's `members` (without its braces), as [`write_text_and_value`]
/// writes them: each `"name":value`, those `is_null` says are null only in
/// `structured`; `write` writes a member's value that is not to both texts.
pub(crate) fn write_members_twice<'a, T>(
    text: &mut Vec<u8>,
    structured: &mut Vec<u8>,
    members: impl IntoIterator<Item = (&'a str, T)>,
    is_null: impl Fn(&T) -> bool,
    mut write: impl FnMut(&mut Vec<u8>, &mut Vec<u8>, T),
) {
    let mut first_text = true;
    for (i, (name, value)) in members.into_iter().enumerate() {
        if i > 0 {
            structured.push(b',');
        }
        if is_null(&value) {
            write_string(structured, name);
            structured.extend_from_slice(b":null");
            continue;
        }
        if !first_text {
            text.push(b',');
        }
        first_text = false;
        write_string_twice(text, structured, name);
        text.push(b':');
        structured.push(b':');
        write(text, structured, value);
    }
}

/// Compact JSON; with `skip_nulls`, object members whose value is null are
/// left out.
fn write_json(out: &mut Vec<u8>, v: &Value, skip_nulls: bool) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        // Numbers are rare next to strings: serde_json's own formatting.
        Value::Number(n) => {
            let _ = serde_json::to_writer(&mut *out, n);
        }
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(out, item, skip_nulls);
            }
            out.push(b']');
        }
        Value::Object(members) => {
            out.push(b'{');
            let mut first = true;
            for (name, value) in members {
                if skip_nulls && value.is_null() {
                    continue;
                }
                if !first {
                    out.push(b',');
                }
                first = false;
                write_string(out, name);
                out.push(b':');
                write_json(out, value, skip_nulls);
            }
            out.push(b'}');
        }
    }
}

/// Appends `s` as a JSON string, escaped as serde_json escapes it.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    write_string(out, s);
}

/// What follows the backslash of a control character's escape: `u00XX`.
fn unicode_escape(b: u8) -> [u8; 5] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    [b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 0xf) as usize]]
}

fn write_string(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let mut rest = s.as_bytes();
    loop {
        let plain = plain_prefix(rest);
        out.extend_from_slice(&rest[..plain]);
        let Some(&b) = rest.get(plain) else { break };
        out.push(b'\\');
        match ESCAPE[b as usize] {
            b'u' => out.extend_from_slice(&unicode_escape(b)),
            c => out.push(c),
        }
        rest = &rest[plain + 1..];
    }
    out.push(b'"');
}

/// `s` as a JSON string into `structured`, and as that string's bytes
/// inside another JSON string into `text` (where only its `"` and `\` change:
/// it has no control characters left).
pub(crate) fn write_string_twice(text: &mut Vec<u8>, structured: &mut Vec<u8>, s: &str) {
    text.reserve(s.len() + 4);
    structured.reserve(s.len() + 2);
    text.extend_from_slice(br#"\""#);
    structured.push(b'"');
    let mut rest = s.as_bytes();
    loop {
        let plain = plain_prefix(rest);
        text.extend_from_slice(&rest[..plain]);
        structured.extend_from_slice(&rest[..plain]);
        let Some(&b) = rest.get(plain) else { break };
        // The escape's backslash, itself escaped in the text.
        text.extend_from_slice(br"\\");
        structured.push(b'\\');
        match ESCAPE[b as usize] {
            b'u' => {
                text.extend_from_slice(&unicode_escape(b));
                structured.extend_from_slice(&unicode_escape(b));
            }
            c @ (b'"' | b'\\') => {
                text.extend_from_slice(&[b'\\', c]);
                structured.push(c);
            }
            c => {
                text.push(c);
                structured.push(c);
            }
        }
        rest = &rest[plain + 1..];
    }
    text.extend_from_slice(br#"\""#);
    structured.push(b'"');
}

/// [`write_string_twice`] of a string with nothing to escape (no `"`, `\`
/// or control character: the caller knows), without looking.
pub(crate) fn write_plain_string_twice(text: &mut Vec<u8>, structured: &mut Vec<u8>, s: &str) {
    text.reserve(s.len() + 4);
    structured.reserve(s.len() + 2);
    text.extend_from_slice(br#"\""#);
    text.extend_from_slice(s.as_bytes());
    text.extend_from_slice(br#"\""#);
    structured.push(b'"');
    structured.extend_from_slice(s.as_bytes());
    structured.push(b'"');
}

/// True when `bytes` as a JSON string need no escape.
pub(crate) fn needs_no_escape(bytes: &[u8]) -> bool {
    plain_prefix(bytes) == bytes.len()
}

/// How many leading bytes need no escape. Sixteen bytes at a time first
/// (a branch-free test the compiler turns into vector instructions), then
/// eight (one word's arithmetic), then byte by byte: most strings have
/// nothing to escape, and most keys are shorter than sixteen bytes.
#[inline]
fn plain_prefix(bytes: &[u8]) -> usize {
    let needs = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
    let mut i = 0;
    for chunk in bytes.chunks_exact(16) {
        if chunk.iter().fold(false, |any, &b| any | needs(b)) {
            break;
        }
        i += 16;
    }
    while let Some(word) = bytes.get(i..).and_then(|rest| rest.first_chunk::<8>()) {
        if word_needs_escape(u64::from_le_bytes(*word)) {
            break;
        }
        i += 8;
    }
    while i < bytes.len() && ESCAPE[bytes[i] as usize] == 0 {
        i += 1;
    }
    i
}

/// True when one of the eight bytes of `x` is below 0x20, `"` or `\`
/// (exact: the "has a byte less than n" and "has a zero byte" word tests).
#[inline]
fn word_needs_escape(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH != 0;
    below(x, 0x20) || below(x ^ (ONES * u64::from(b'"')), 1) || below(x ^ (ONES * u64::from(b'\\')), 1)
}

/// The length of `v` as compact JSON (with nulls), nothing written.
pub fn compact_len(v: &Value) -> usize {
    match v {
        Value::Null | Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        Value::Number(n) => {
            let mut count = Count(0);
            let _ = serde_json::to_writer(&mut count, n);
            count.0
        }
        Value::String(s) => str_len(s),
        Value::Array(items) => 2 + items.len().saturating_sub(1) + items.iter().map(compact_len).sum::<usize>(),
        Value::Object(members) => map_len(members),
    }
}

/// The length of an object with these members as compact JSON.
pub fn map_len(members: &serde_json::Map<String, Value>) -> usize {
    2 + members.len().saturating_sub(1) + members.iter().map(|(k, v)| str_len(k) + 1 + compact_len(v)).sum::<usize>()
}

/// [`map_len`], the value of the member `name` counted as `len` bytes
/// rather than measured.
pub fn map_len_given(members: &serde_json::Map<String, Value>, name: &str, len: usize) -> usize {
    2 + members.len().saturating_sub(1)
        + members.iter().map(|(k, v)| str_len(k) + 1 + if k == name { len } else { compact_len(v) }).sum::<usize>()
}

/// The length of `s` as an escaped JSON string, quotes included.
fn str_len(s: &str) -> usize {
    let mut len = 2 + s.len();
    let mut rest = s.as_bytes();
    loop {
        let plain = plain_prefix(rest);
        let Some(&b) = rest.get(plain) else { return len };
        len += if ESCAPE[b as usize] == b'u' { 5 } else { 1 };
        rest = &rest[plain + 1..];
    }
}

/// Counts what is written, keeping nothing.
struct Count(usize);

impl std::io::Write for Count {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// serde_json's escapes: 0 for none, `u` for `\u00XX`, else the letter
/// after the backslash.
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn without_nulls(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(m.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), without_nulls(v))).collect()),
            Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
            other => other.clone(),
        }
    }

    fn check(v: &Value) {
        let expected = serde_json::to_vec(v).expect("serialises");
        let mut ours = Vec::new();
        write_value(&mut ours, v, false);
        assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&expected));
        assert_eq!(compact_len(v), expected.len(), "{v}");
        if let Value::Object(m) = v {
            assert_eq!(map_len(m), expected.len());
        }
        let mut skipped = Vec::new();
        write_value(&mut skipped, v, true);
        assert_eq!(skipped, serde_json::to_vec(&without_nulls(v)).expect("serialises"), "{v}");
        // The text block (without nulls, as serde_json writes that text
        // inside a string) and the structured content (with them), in one walk.
        let (mut text, mut structured) = (b"\"".to_vec(), b"[".to_vec());
        write_text_and_value(&mut text, &mut structured, v);
        text.push(b'"');
        let skipped = String::from_utf8(skipped).expect("utf-8");
        assert_eq!(String::from_utf8_lossy(&text), serde_json::to_string(&skipped).expect("serialises"), "{v}");
        assert_eq!(structured[1..], expected[..], "{v}");
    }

    #[test]
    fn byte_for_byte_what_serde_json_writes() {
        let every_byte: String = (0u8..=0x7f).map(char::from).collect();
        for v in [
            json!(null),
            json!(true),
            json!(false),
            json!(0),
            json!(-9223372036854775808i64),
            json!(18446744073709551615u64),
            json!(0.1),
            json!(-0.0),
            json!(1e300),
            json!(2.5e-8),
            json!(123456789.125),
            json!(""),
            json!(every_byte),
            json!("tab\there \"quoted\" back\\slash / é 日本 \u{1F600} \u{7f} \u{2028}"),
            json!([]),
            json!({}),
            json!([null, {"a": null}, [null]]),
            json!({"b": null, "a": 1, "c": {"d": null, "e": [1, null, "x"]}, "\n\"key\"": "v", "": ""}),
        ] {
            check(&v);
        }
    }

    #[test]
    fn a_word_needs_escape_exactly_when_one_of_its_bytes_does() {
        let needs = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
        // Every byte at every position of a plain word.
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut word = *b"abcdefgh";
                word[at] = b;
                assert_eq!(word_needs_escape(u64::from_le_bytes(word)), needs(b), "{b:#x} at {at}");
            }
        }
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        for round in 0..200_000u32 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let mut word = rng.to_le_bytes();
            // Mostly plain printable bytes, with the edges placed anywhere.
            for b in &mut word {
                *b = 0x20 + (*b % 0x5f);
            }
            let edges = [0x00, 0x1f, 0x20, 0x21, b'"', b'#', b'[', b'\\', b']', 0x7f, 0x80, 0xc3, 0xff];
            word[(round % 8) as usize] = edges[(rng >> 40) as usize % edges.len()];
            if round % 3 == 0 {
                word[((round / 8) % 8) as usize] = edges[(rng >> 50) as usize % edges.len()];
            }
            let x = u64::from_le_bytes(word);
            assert_eq!(word_needs_escape(x), word.iter().any(|&b| needs(b)), "{word:?}");
            assert_eq!(plain_prefix(&word), word.iter().position(|&b| needs(b)).unwrap_or(8), "{word:?}");
        }
    }

    #[test]
    fn the_recorded_samples_write_alike() {
        for (name, answer) in crate::test_samples::recorded_answers() {
            let v: Value = serde_json::from_slice(&answer).unwrap_or_else(|e| panic!("{name}: {e}"));
            check(&v);
        }
    }
}
