//! A JSON text read token by token, for a reader that knows what it
//! expects: the written path reads every answer this way (a page is a few
//! thousand keys and strings, and a generic parser's visitors cost more
//! than the reading itself). Strict: it reads only what serde_json reads
//! (the tests check it against serde_json on every recorded answer and on
//! thousands of broken ones), and anything it does not read gives `None`,
//! which sends the answer to serde_json's path. Strings with escapes are
//! decoded by serde_json itself, numbers other than plain integers too.

use std::borrow::Cow;

/// Objects and arrays nested deeper than this are refused (serde_json
/// refuses past 128: nothing serde_json refuses is read here).
const MAX_DEPTH: u32 = 127;

pub struct Scanner<'a> {
    text: &'a str,
    at: usize,
    depth: u32,
}

/// A string as sent: its text between the quotes, and whether it has
/// escapes (with none, its text is the string and is written as it is).
#[derive(Clone, Copy, Debug)]
pub struct Str<'a> {
    /// With its quotes.
    quoted: &'a str,
    escaped: bool,
}

impl<'a> Str<'a> {
    /// The text between the quotes.
    #[inline]
    pub fn raw(self) -> &'a str {
        &self.quoted[1..self.quoted.len() - 1]
    }

    /// Whether the text has escapes (without, `raw` is the string).
    #[inline]
    pub fn escaped(self) -> bool {
        self.escaped
    }

    /// The string, decoded (as serde_json decodes it); `None` when an
    /// escape is not a character (a lone surrogate).
    #[inline]
    pub fn text(self) -> Option<Cow<'a, str>> {
        if self.escaped { serde_json::from_str::<String>(self.quoted).ok().map(Cow::Owned) } else { Some(Cow::Borrowed(self.raw())) }
    }
}

/// What a value starts with.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Next {
    Object,
    Array,
    String,
    /// A number, `true`, `false` or `null` (or nothing JSON reads).
    Scalar,
}

impl<'a> Scanner<'a> {
    pub fn new(text: &'a str) -> Self {
        Self { text, at: 0, depth: 0 }
    }

    /// Where the next token is (after whitespace), and its first byte.
    #[inline]
    fn peek_byte(&mut self) -> Option<u8> {
        let bytes = self.text.as_bytes();
        while let Some(&b) = bytes.get(self.at) {
            if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                return Some(b);
            }
            self.at += 1;
        }
        None
    }

    /// What the next value starts with; `None` at the end of the text.
    #[inline]
    pub fn peek(&mut self) -> Option<Next> {
        Some(match self.peek_byte()? {
            b'{' => Next::Object,
            b'[' => Next::Array,
            b'"' => Next::String,
            _ => Next::Scalar,
        })
    }

    /// Nothing but whitespace is left.
    pub fn end(&mut self) -> Option<()> {
        self.peek_byte().is_none().then_some(())
    }

    /// Where the next value starts.
    pub fn value_start(&mut self) -> Option<usize> {
        self.peek_byte()?;
        Some(self.at)
    }

    /// The text from `start` to where the scanner is.
    pub fn text_since(&self, start: usize) -> &'a str {
        &self.text[start..self.at]
    }

    /// When the next value's text is `known` (a value this scanner read
    /// before, so checked), passes it: its text here.
    #[inline]
    pub fn skip_text(&mut self, known: &str) -> Option<&'a str> {
        self.peek_byte()?;
        let rest = &self.text.as_bytes()[self.at..];
        if !rest.starts_with(known.as_bytes()) {
            return None;
        }
        // A number is only the same when it ends where `known` does.
        let number_goes_on = known.ends_with(|c: char| c.is_ascii_digit())
            && rest.get(known.len()).is_some_and(|b| matches!(b, b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-'));
        if number_goes_on {
            return None;
        }
        let start = self.at;
        self.at += known.len();
        Some(&self.text[start..self.at])
    }

    #[inline]
    fn eat(&mut self, b: u8) -> Option<()> {
        (self.peek_byte()? == b).then(|| self.at += 1)
    }

    fn enter(&mut self, open: u8) -> Option<()> {
        self.eat(open)?;
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// An object's `{`: its members follow, read with [`Scanner::key`].
    pub fn object(&mut self) -> Option<()> {
        self.enter(b'{')
    }

    /// The next member's key (its colon read: its value follows), or
    /// `None` at the end of the object. `first`: no member came yet.
    #[inline]
    pub fn key(&mut self, first: &mut bool) -> Option<Option<Str<'a>>> {
        if !self.more(b'}', first)? {
            return Some(None);
        }
        let key = self.string()?;
        self.eat(b':')?;
        Some(Some(key))
    }

    /// An array's `[`: its items follow, each after [`Scanner::item`].
    pub fn array(&mut self) -> Option<()> {
        self.enter(b'[')
    }

    /// Whether another item follows (`false` at the end of the array).
    #[inline]
    pub fn item(&mut self, first: &mut bool) -> Option<bool> {
        self.more(b']', first)
    }

    /// Whether another member or item follows (its comma read), or the
    /// object or array ends (`close` read). `first`: none came yet.
    #[inline]
    fn more(&mut self, close: u8, first: &mut bool) -> Option<bool> {
        match self.peek_byte()? {
            b if b == close => {
                self.at += 1;
                self.depth -= 1;
                return Some(false);
            }
            b',' if !*first => self.at += 1,
            _ if *first => {}
            _ => return None,
        }
        *first = false;
        Some(true)
    }

    /// A string.
    pub fn string(&mut self) -> Option<Str<'a>> {
        self.eat(b'"')?;
        let bytes = self.text.as_bytes();
        let start = self.at - 1;
        let mut escaped = false;
        let mut i = self.at;
        loop {
            i += plain_run(&bytes[i..]);
            match *bytes.get(i)? {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    i += match *bytes.get(i + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => 2,
                        b'u' if bytes.get(i + 2..i + 6)?.iter().all(u8::is_ascii_hexdigit) => 6,
                        _ => return None,
                    };
                }
                // A control character: JSON has them escaped.
                _ => return None,
            }
        }
        self.at = i + 1;
        Some(Str { quoted: &self.text[start..self.at], escaped })
    }

    /// A number's text, checked as serde_json reads numbers (one out of
    /// a float's range is refused).
    pub fn number(&mut self) -> Option<&'a str> {
        self.peek_byte()?;
        let bytes = self.text.as_bytes();
        let start = self.at;
        let digits = |i: &mut usize| {
            let from = *i;
            while bytes.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i > from
        };
        let mut i = start + usize::from(bytes[start] == b'-');
        match *bytes.get(i)? {
            b'0' => i += 1,
            b'1'..=b'9' => _ = digits(&mut i),
            _ => return None,
        }
        if bytes.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i).then_some(())?;
        }
        if matches!(bytes.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(bytes.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            digits(&mut i).then_some(())?;
        }
        self.at = i;
        let number = &self.text[start..i];
        if !is_plain_integer(number) {
            serde_json::from_str::<serde_json::Number>(number).ok()?;
        }
        Some(number)
    }

    /// `true`, `false` or `null`, when one comes: its text.
    pub fn literal(&mut self) -> Option<&'static str> {
        self.peek_byte()?;
        let rest = &self.text.as_bytes()[self.at..];
        let word = ["null", "true", "false"].into_iter().find(|word| rest.starts_with(word.as_bytes()))?;
        self.at += word.len();
        Some(word)
    }

    /// Any value, checked as serde_json checks it and not kept: its text.
    pub fn skip(&mut self) -> Option<&'a str> {
        let next = self.peek()?;
        let start = self.at;
        match next {
            Next::Object => {
                self.object()?;
                let mut first = true;
                while let Some(key) = self.key(&mut first)? {
                    if key.escaped {
                        key.text()?;
                    }
                    self.skip()?;
                }
            }
            Next::Array => {
                self.array()?;
                let mut first = true;
                while self.item(&mut first)? {
                    self.skip()?;
                }
            }
            Next::String => {
                let s = self.string()?;
                if s.escaped {
                    s.text()?;
                }
            }
            Next::Scalar => {
                if self.literal().is_none() {
                    self.number()?;
                }
            }
        }
        Some(&self.text[start..self.at])
    }

    /// Any value, as serde_json's `Value` reads it.
    pub fn value(&mut self) -> Option<serde_json::Value> {
        if self.peek()? == Next::String {
            return Some(serde_json::Value::String(self.string()?.text()?.into_owned()));
        }
        serde_json::from_str(self.skip()?).ok()
    }
}

/// A number's text written as serde_json writes what it reads of it: an
/// integer of at most 18 digits, without a leading zero, not `-0` (read as
/// a float). Any other is read and written again.
pub fn is_plain_integer(number: &str) -> bool {
    let digits = number.strip_prefix('-').unwrap_or(number).as_bytes();
    matches!(digits, [b'1'..=b'9', ..] | [b'0']) && digits.len() <= 18 && digits.iter().all(u8::is_ascii_digit) && number != "-0"
}

/// How many leading bytes are neither `"`, `\` nor a control character:
/// eight at a time (a string is scanned once, and most are plain).
#[inline]
fn plain_run(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while let Some(word) = bytes.get(i..).and_then(|rest| rest.first_chunk::<8>()) {
        let x = u64::from_le_bytes(*word);
        // The high bit of each byte below 0x20, `"` or `\`: exact in the
        // lowest such byte (a borrow only marks bytes above it).
        let zero = |y: u64| y.wrapping_sub(ONES) & !y;
        let marked = (x.wrapping_sub(ONES * 0x20) & !x | zero(x ^ (ONES * u64::from(b'"'))) | zero(x ^ (ONES * u64::from(b'\\')))) & HIGH;
        if marked != 0 {
            return i + (marked.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while bytes.get(i).is_some_and(|&b| b >= 0x20 && b != b'"' && b != b'\\') {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether the scanner reads `text` as one JSON value.
    fn scanned(text: &str) -> bool {
        let mut scanner = Scanner::new(text);
        scanner.skip().is_some() && scanner.end().is_some()
    }

    /// How deep `text`'s brackets nest (outside strings, roughly: enough for the texts here).
    fn nesting(text: &str) -> usize {
        let (mut depth, mut deepest, mut in_string, mut escape) = (0usize, 0, false, false);
        for b in text.bytes() {
            match (in_string, escape, b) {
                (true, true, _) => escape = false,
                (true, false, b'\\') => escape = true,
                (true, false, b'"') | (false, _, b'"') => in_string = !in_string,
                (false, _, b'[' | b'{') => {
                    depth += 1;
                    deepest = deepest.max(depth);
                }
                (false, _, b']' | b'}') => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        deepest
    }

    #[test]
    fn plain_runs_end_where_one_byte_at_a_time_would() {
        for bytes in crate::test_samples::every_byte_at_every_place(b"abcdefghijklmnopq") {
            let one_at_a_time = bytes.iter().position(|&b| b < 0x20 || b == b'"' || b == b'\\').unwrap_or(bytes.len());
            assert_eq!(plain_run(&bytes), one_at_a_time, "{bytes:?}");
        }
    }

    #[test]
    fn it_reads_what_serde_json_reads_and_nothing_else() {
        let mut texts: Vec<String> = [
            "{}",
            "[]",
            "0",
            "-0",
            "1.5",
            "-1.5e+3",
            "1E2",
            "01",
            "1.",
            ".5",
            "-",
            "1e",
            "+1",
            "--1",
            "1.5.5",
            "0x10",
            "1e400",
            "18446744073709551616",
            "-9223372036854775809",
            "true",
            "false",
            "null",
            "nul",
            "truex",
            "tru",
            "\"\"",
            "\"a\"",
            "\"\\u00e9\\n\\t\\/\"",
            "\"\\ud83d\\ude00\"",
            "\"\\ud83d\"",
            "\"\\ude00\"",
            "\"\\u12\"",
            "\"\\x\"",
            "\"a\u{1}b\"",
            "\"a\u{7f}b\u{2028}é\"",
            "\"unterminated",
            "{\"a\":1,}",
            "[1,]",
            "[,1]",
            "{,}",
            "{\"a\" 1}",
            "{\"a\":}",
            "{1:2}",
            "[1 2]",
            " [ 1 , { \"a\" : [ ] } ] ",
            "{\"a\":1}{",
            "[]]",
            "\t\n\r 1 \n",
            "{\"\\ud800\":1}",
            "[\"a\",\"b\\\"c\"]",
            "{\"a\":{\"b\":{\"c\":[true,false,null,-1.0e-2]}}}",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for depth in [100, 126, 127, 128, 129, 200] {
            texts.push(format!("{}{}", "[".repeat(depth), "]".repeat(depth)));
            texts.push(format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth)));
        }
        // Every recorded answer, and each one broken at many places: a byte
        // left out, doubled, or another put in its place.
        for (_, body) in crate::test_samples::recorded_documents() {
            let body = String::from_utf8(body).expect("UTF-8");
            texts.push(body.clone());
            // About a hundred places a document (a page's every byte would take minutes).
            for at in (0..body.len()).step_by(body.len() / 100 + 1).filter(|at| body.is_char_boundary(*at)) {
                for broken in [
                    format!("{}{}", &body[..at], &body[at..].chars().skip(1).collect::<String>()),
                    format!("{}{}", &body[..at], &body[at..].chars().take(1).chain(body[at..].chars()).collect::<String>()),
                    format!("{}\"{}", &body[..at], &body[at..].chars().skip(1).collect::<String>()),
                    format!("{},{}", &body[..at], &body[at..]),
                ] {
                    texts.push(broken);
                }
            }
        }
        assert!(texts.len() > 2_000, "{}", texts.len());
        let mut read = 0;
        for text in &texts {
            let serde = serde_json::from_str::<serde_json::Value>(text).is_ok();
            let ours = scanned(text);
            // Nothing serde_json refuses is read; what it reads is (but nesting past the limit).
            assert!(!ours || serde, "read what serde_json refuses: {text:.200}");
            let too_deep = nesting(text) > MAX_DEPTH as usize;
            assert!(ours || !serde || too_deep, "refused what serde_json reads: {text:.200}");
            read += usize::from(ours);
        }
        assert!(read > 100);
    }

    #[test]
    fn values_are_read_as_serde_json_reads_them() {
        for text in ["\"a\\u00e9\"", "\"plain\"", "{\"b\":1,\"a\":[1.50,null]}", "-0", "12345678901234567890", "1e2"] {
            let mut scanner = Scanner::new(text);
            assert_eq!(scanner.value(), serde_json::from_str(text).ok(), "{text}");
        }
    }
}
