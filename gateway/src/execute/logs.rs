//! Plan and apply logs as text a model can read: the end, the start, a byte
//! range, or the lines matching a search, with ANSI escape codes removed and
//! Terraform's JSON-lines UI output (`terraform plan -json`) rendered as one
//! readable line per message.
//!
//! A log is streamed, never held whole: only what the answer keeps (and the
//! chunk in hand) counts in the gateway's byte budget, however many MB the
//! log is. The search is a plain case-insensitive substring match (no
//! patterns, so no pathological inputs), line by line.

use serde_json::{Map, Value, json};

use super::{Cx, ToolError};
use crate::catalog::truncate;

/// Most bytes of a log read in one call (tail and search read to the end).
pub(crate) const MAX_LOG_SCAN_BYTES: usize = 256 * 1024 * 1024;
/// Default and largest `max_bytes`.
pub(crate) const DEFAULT_LOG_BYTES: usize = 32 * 1024;
pub(crate) const MAX_LOG_BYTES: usize = 256 * 1024;
const MIN_LOG_BYTES: usize = 256;
/// Default and largest `max_matches`, and the longest search text.
const DEFAULT_MATCHES: usize = 50;
const MAX_MATCHES: usize = 200;
const MAX_SEARCH_CHARS: usize = 200;
/// A matching line is shown up to this many characters.
const MAX_MATCH_LINE_CHARS: usize = 500;
/// Longest line searched; a longer one is searched in pieces of this size.
const MAX_LINE_BYTES: usize = 64 * 1024;
/// Room left in the result budget for everything around the log text.
const ANSWER_OVERHEAD: usize = 1536;

/// Which part of the log a call asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    Tail,
    Head,
    Range { offset: usize },
    Search { needle: String, max_matches: usize },
}

/// The request of a logs call, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LogRequest {
    pub part: Part,
    /// Bytes of raw log to return (head, tail, range).
    pub max_bytes: usize,
}

impl LogRequest {
    /// From a log tool's arguments (`max_bytes`, `from`, `offset`, `search`,
    /// `max_matches`), within the result budget.
    pub fn from_tool_args(args: &super::Args, budget: usize) -> Result<Self, ToolError> {
        Self::from_args(args.int("max_bytes"), args.str("from"), args.int("offset"), args.str("search"), args.int("max_matches"), budget)
    }

    /// From the tool's arguments; `budget` is the result budget that
    /// applies, which `max_bytes` never exceeds.
    pub fn from_args(
        max_bytes: Option<i64>,
        from: Option<&str>,
        offset: Option<i64>,
        search: Option<&str>,
        max_matches: Option<i64>,
        budget: usize,
    ) -> Result<Self, ToolError> {
        let max_bytes = match max_bytes {
            None => DEFAULT_LOG_BYTES,
            Some(n) if n < MIN_LOG_BYTES as i64 || n > MAX_LOG_BYTES as i64 => {
                return Err(ToolError::invalid(format!("argument `max_bytes` must be from {MIN_LOG_BYTES} to {MAX_LOG_BYTES}")));
            }
            Some(n) => n as usize,
        }
        .min(budget.saturating_sub(ANSWER_OVERHEAD).max(MIN_LOG_BYTES));
        let given = [("from", from.is_some()), ("offset", offset.is_some()), ("search", search.is_some())];
        let chosen: Vec<&str> = given.iter().filter(|(_, g)| *g).map(|(n, _)| *n).collect();
        if chosen.len() > 1 {
            return Err(ToolError::invalid(format!("give only one of `from`, `offset` and `search` (got {})", chosen.join(", "))));
        }
        if max_matches.is_some() && search.is_none() {
            return Err(ToolError::invalid("argument `max_matches` only goes with `search`".into()));
        }
        let part = if let Some(o) = offset {
            if o < 0 {
                return Err(ToolError::invalid(
                    "argument `offset` must be a byte offset >= 0 (use from=\"end\" for the end of the log)".into(),
                ));
            }
            if o as u64 >= MAX_LOG_SCAN_BYTES as u64 {
                return Err(ToolError::invalid(format!(
                    "argument `offset` is beyond the largest log this server reads ({} MiB)",
                    MAX_LOG_SCAN_BYTES / (1024 * 1024)
                )));
            }
            Part::Range { offset: o as usize }
        } else if let Some(s) = search {
            if s.trim().is_empty() {
                return Err(ToolError::invalid("argument `search` must not be empty".into()));
            }
            if s.chars().count() > MAX_SEARCH_CHARS {
                return Err(ToolError::invalid(format!("argument `search` is longer than {MAX_SEARCH_CHARS} characters")));
            }
            let max_matches = match max_matches {
                None => DEFAULT_MATCHES,
                Some(n) if (1..=MAX_MATCHES as i64).contains(&n) => n as usize,
                Some(_) => return Err(ToolError::invalid(format!("argument `max_matches` must be from 1 to {MAX_MATCHES}"))),
            };
            Part::Search { needle: s.to_lowercase(), max_matches }
        } else {
            match from {
                None | Some("end") => Part::Tail,
                Some("start") => Part::Head,
                Some(other) => {
                    return Err(ToolError::invalid(format!("argument `from` must be \"start\" or \"end\", not {:?}", truncate(other, 20))));
                }
            }
        };
        Ok(Self { part, max_bytes })
    }
}

// ---- text ----------------------------------------------------------------------

/// Remove ANSI escape sequences (CSI `ESC [ ... final`, OSC `ESC ] ... BEL`
/// or `ESC \`, two-byte `ESC x`), the log framing bytes (STX, ETX) and
/// carriage returns; other text is kept as is.
pub(crate) fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                Some('[') => {
                    // Parameters and intermediates, then one final byte 0x40..=0x7e.
                    for c in chars.by_ref() {
                        if ('\u{40}'..='\u{7e}').contains(&c) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' {
                            break;
                        }
                        if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                            chars.next();
                            break;
                        }
                    }
                }
                _ => {}
            },
            '\u{9b}' => {
                for c in chars.by_ref() {
                    if ('\u{40}'..='\u{7e}').contains(&c) {
                        break;
                    }
                }
            }
            '\u{2}' | '\u{3}' | '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// One line of Terraform's machine-readable UI output rendered for
/// reading: `timestamp [level] message`, with a diagnostic's detail and
/// location. `None` when the line is not such a message.
pub(crate) fn render_json_line(line: &str) -> Option<String> {
    let t = line.trim();
    if !t.starts_with('{') || !t.ends_with('}') {
        return None;
    }
    let v: Map<String, Value> = serde_json::from_str(t).ok()?;
    let message = v.get("@message")?.as_str()?;
    let mut out = String::new();
    if let Some(ts) = v.get("@timestamp").and_then(Value::as_str) {
        out.push_str(ts);
        out.push(' ');
    }
    if let Some(level) = v.get("@level").and_then(Value::as_str) {
        out.push_str(&format!("[{level}] "));
    }
    out.push_str(message);
    if let Some(d) = v.get("diagnostic").and_then(Value::as_object) {
        if let Some(detail) = d.get("detail").and_then(Value::as_str).filter(|s| !s.is_empty()) {
            out.push_str(": ");
            out.push_str(detail);
        }
        if let Some(r) = d.get("range") {
            let file = r.get("filename").and_then(Value::as_str);
            let line = r.pointer("/start/line").and_then(Value::as_u64);
            if let (Some(f), Some(l)) = (file, line) {
                out.push_str(&format!(" ({f}:{l})"));
            }
        }
    }
    // A message is one line of the answer; escape codes inside the JSON
    // strings (`\u001b[31m`) only appear once decoded, so strip them here.
    Some(strip_ansi(&out).replace('\n', " "))
}

/// Readable text of log bytes: ANSI codes removed (also those inside JSON
/// strings), JSON UI lines rendered.
/// Returns the text and whether any JSON line was rendered.
pub(crate) fn render(bytes: &[u8]) -> (String, bool) {
    let text = strip_ansi(&String::from_utf8_lossy(bytes));
    let mut json_lines = false;
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match render_json_line(line) {
            Some(r) => {
                json_lines = true;
                out.push_str(&r);
            }
            None => out.push_str(line),
        }
    }
    (out, json_lines)
}

/// Size of `s` as a JSON string in the answer (escapes included).
fn json_len(s: &str) -> usize {
    serde_json::to_string(s).map(|j| j.len()).unwrap_or(usize::MAX)
}

/// Render `bytes` so the text's JSON form fits `room` bytes, dropping raw
/// bytes from the start (`keep_end`) or the end. Returns the text, whether
/// JSON lines were rendered, and how many raw bytes were dropped (so the
/// answer's byte range stays exact).
fn render_fitting(bytes: &[u8], room: usize, keep_end: bool) -> (String, bool, usize) {
    let mut drop = 0usize;
    loop {
        let part = if keep_end { &bytes[drop..] } else { &bytes[..bytes.len() - drop] };
        let (text, json_lines) = render(part);
        let len = json_len(&text);
        if len <= room || part.is_empty() {
            return (text, json_lines, drop);
        }
        // Keep the share that fits (escapes make text longer than bytes).
        let keep = (part.len() as u128 * room as u128 / len as u128) as usize;
        drop += (part.len() - keep.min(part.len())).max(1);
    }
}

// ---- collecting ----------------------------------------------------------------

/// The last `max` bytes of a stream.
pub(crate) struct Tail {
    max: usize,
    buf: Vec<u8>,
    seen: usize,
}

impl Tail {
    pub fn new(max: usize) -> Self {
        Self { max, buf: Vec::new(), seen: 0 }
    }
    pub fn push(&mut self, chunk: &[u8]) {
        self.seen += chunk.len();
        self.buf.extend_from_slice(chunk);
        if self.buf.len() > self.max.saturating_mul(2).max(64 * 1024) {
            let cut = self.buf.len() - self.max;
            self.buf.drain(..cut);
        }
    }
    /// `(start offset, bytes)`.
    pub fn finish(mut self) -> (usize, Vec<u8>) {
        if self.buf.len() > self.max {
            let cut = self.buf.len() - self.max;
            self.buf.drain(..cut);
        }
        (self.seen - self.buf.len(), self.buf)
    }
}

/// Bytes `offset .. offset + max` of a stream.
pub(crate) struct Window {
    offset: usize,
    max: usize,
    buf: Vec<u8>,
    seen: usize,
}

impl Window {
    pub fn new(offset: usize, max: usize) -> Self {
        Self { offset, max, buf: Vec::new(), seen: 0 }
    }
    /// Returns false once the window is full (nothing more is needed).
    pub fn push(&mut self, chunk: &[u8]) -> bool {
        let start = self.seen;
        self.seen += chunk.len();
        let end = self.seen;
        let from = self.offset.max(start);
        let to = (self.offset + self.max).min(end);
        if from < to {
            self.buf.extend_from_slice(&chunk[from - start..to - start]);
        }
        self.buf.len() < self.max
    }
}

/// One matching line.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Match {
    pub line: u64,
    pub text: String,
}

/// Line-by-line case-insensitive search of a stream.
pub(crate) struct Search {
    needle: String,
    max_matches: usize,
    carry: Vec<u8>,
    pub line: u64,
    pub count: u64,
    pub matches: Vec<Match>,
    pub json_lines: bool,
    /// The last line counted as a match (a long line's pieces count once).
    last_matched: Option<u64>,
}

impl Search {
    pub fn new(needle: &str, max_matches: usize) -> Self {
        Self {
            needle: needle.to_lowercase(),
            max_matches,
            carry: Vec::new(),
            line: 0,
            count: 0,
            matches: Vec::new(),
            json_lines: false,
            last_matched: None,
        }
    }

    pub fn push(&mut self, mut chunk: &[u8]) {
        while let Some(nl) = chunk.iter().position(|b| *b == b'\n') {
            self.carry.extend_from_slice(&chunk[..nl]);
            let line = std::mem::take(&mut self.carry);
            self.check(&line);
            chunk = &chunk[nl + 1..];
        }
        self.carry.extend_from_slice(chunk);
        // A line longer than the limit is searched in pieces (the line
        // number counts the whole line once).
        while self.carry.len() > MAX_LINE_BYTES {
            let rest = self.carry.split_off(MAX_LINE_BYTES);
            let piece = std::mem::replace(&mut self.carry, rest);
            self.check_piece(&piece);
        }
    }

    pub fn finish(&mut self) {
        // The closing framing byte after the last newline is not a line.
        if self.carry.iter().any(|b| !b.is_ascii_whitespace() && *b != 0x02 && *b != 0x03) {
            let line = std::mem::take(&mut self.carry);
            self.check(&line);
        }
    }

    fn check(&mut self, line: &[u8]) {
        self.check_piece(line);
        self.line += 1;
    }

    fn check_piece(&mut self, piece: &[u8]) {
        let (text, json) = render(piece);
        self.json_lines |= json;
        let text = text.trim_end();
        let number = self.line + 1;
        if self.last_matched != Some(number) && text.to_lowercase().contains(&self.needle) {
            self.last_matched = Some(number);
            self.count += 1;
            if self.matches.len() < self.max_matches {
                self.matches.push(Match { line: number, text: truncate(text, MAX_MATCH_LINE_CHARS) });
            }
        }
    }
}

// ---- the tool ------------------------------------------------------------------

/// Read the log at `url` as `req` asks; `id_key`/`id` name the plan or apply.
pub(crate) async fn read(cx: &Cx<'_, '_>, url: &str, req: &LogRequest, budget: usize) -> Result<Map<String, Value>, ToolError> {
    let room = budget.saturating_sub(ANSWER_OVERHEAD).max(MIN_LOG_BYTES);
    let mut out = Map::new();
    let failed =
        |status: u16| ToolError::upstream_msg(&format!("reading the logs failed with HTTP {status}; call this tool again"), Some(status));
    match &req.part {
        Part::Search { needle, max_matches } => {
            let mut search = Search::new(needle, *max_matches);
            let kept = MAX_LINE_BYTES + max_matches * (MAX_MATCH_LINE_CHARS * 4 + 64);
            let scan = cx
                .client
                .scan_url(url, MAX_LOG_SCAN_BYTES, kept, &mut |chunk: &[u8]| {
                    search.push(chunk);
                    true
                })
                .await?;
            if !(200..300).contains(&scan.status) {
                return Err(failed(scan.status));
            }
            search.finish();
            // Keep the matches within the result budget too.
            let mut matches = search.matches;
            while matches.len() > 1 && serde_json::to_vec(&matches).map(|b| b.len()).unwrap_or(usize::MAX) > room {
                matches.pop();
            }
            let shown = matches.len() as u64;
            out.insert("search".into(), json!(needle));
            out.insert("match_count".into(), json!(search.count));
            out.insert("matches".into(), json!(matches));
            out.insert("matches_truncated".into(), json!(search.count > shown));
            out.insert("lines_scanned".into(), json!(search.line));
            out.insert("total_bytes".into(), if scan.complete { json!(scan.read) } else { Value::Null });
            out.insert("complete".into(), json!(scan.complete));
            out.insert("format".into(), json!(if search.json_lines { "json-lines" } else { "text" }));
            if !scan.complete {
                out.insert(
                    "note".into(),
                    json!(format!("only the first {} MiB of the log were searched", MAX_LOG_SCAN_BYTES / (1024 * 1024))),
                );
            }
            if search.count > shown {
                out.insert(
                    "hint".into(),
                    json!("more lines match than are shown: search for a longer text, or read around a line with offset"),
                );
            }
        }
        Part::Tail => {
            let mut tail = Tail::new(req.max_bytes);
            let scan = cx
                .client
                .scan_url(url, MAX_LOG_SCAN_BYTES, req.max_bytes.saturating_mul(2).max(64 * 1024), &mut |chunk: &[u8]| {
                    tail.push(chunk);
                    true
                })
                .await?;
            if !(200..300).contains(&scan.status) {
                return Err(failed(scan.status));
            }
            let (start, bytes) = tail.finish();
            // Start at a line when the start was cut.
            // (Not when that leaves nothing: one long line is shown cut.)
            let skip = if start > 0 {
                bytes
                    .iter()
                    .position(|b| *b == b'\n')
                    .map(|i| i + 1)
                    .filter(|i| bytes[*i..].iter().any(|b| !b.is_ascii_whitespace() && *b != 0x02 && *b != 0x03))
                    .unwrap_or(0)
            } else {
                0
            };
            let (text, json_lines, dropped) = render_fitting(&bytes[skip..], room, true);
            let start = start + skip + dropped;
            insert_text(&mut out, "end", text, json_lines, start, scan.read, scan.complete.then_some(scan.read), start > 0);
            if !scan.complete {
                let mib = MAX_LOG_SCAN_BYTES / (1024 * 1024);
                out.insert(
                    "note".into(),
                    json!(format!("the log is larger than {mib} MiB, the most this server reads: this is the end of its first {mib} MiB")),
                );
            }
            if start > 0 {
                out.insert(
                    "hint".into(),
                    json!(format!(
                        "the log starts earlier: read it with from=\"start\", or offset={} for the part before this one",
                        start.saturating_sub(req.max_bytes)
                    )),
                );
            }
        }
        Part::Head | Part::Range { .. } => {
            let offset = match req.part {
                Part::Range { offset } => offset,
                _ => 0,
            };
            let mut window = Window::new(offset, req.max_bytes);
            let scan = cx.client.scan_url(url, MAX_LOG_SCAN_BYTES, req.max_bytes, &mut |chunk: &[u8]| window.push(chunk)).await?;
            if !(200..300).contains(&scan.status) {
                return Err(failed(scan.status));
            }
            let mut bytes = window.buf;
            let total = scan.complete.then_some(scan.read);
            let mut end = offset + bytes.len();
            if req.part == Part::Head && !scan.complete {
                // End at a line when the end was cut.
                if let Some(nl) = bytes.iter().rposition(|b| *b == b'\n') {
                    bytes.truncate(nl + 1);
                    end = offset + bytes.len();
                }
            }
            let (text, json_lines, dropped) = render_fitting(&bytes, room, false);
            end -= dropped;
            let more_after = total.is_none_or(|t| end < t);
            let from = if req.part == Part::Head { "start" } else { "offset" };
            insert_text(&mut out, from, text, json_lines, offset, end, total, more_after || offset > 0);
            if let (Some(t), Part::Range { .. }) = (total, &req.part)
                && offset >= t
            {
                out.insert("note".into(), json!(format!("offset {offset} is at or past the end of the log ({t} bytes)")));
            }
            if more_after {
                out.insert("next_offset".into(), json!(end));
            }
        }
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)] // the fields of one answer
fn insert_text(
    out: &mut Map<String, Value>,
    from: &str,
    text: String,
    json_lines: bool,
    start: usize,
    end: usize,
    total: Option<usize>,
    truncated: bool,
) {
    out.insert("from".into(), json!(from));
    out.insert("range".into(), json!({"start": start, "end": end}));
    out.insert("total_bytes".into(), total.map(|t| json!(t)).unwrap_or(Value::Null));
    out.insert("truncated".into(), json!(truncated));
    out.insert("format".into(), json!(if json_lines { "json-lines" } else { "text" }));
    out.insert("log".into(), json!(text));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(from: Option<&str>, offset: Option<i64>, search: Option<&str>) -> Result<LogRequest, ToolError> {
        LogRequest::from_args(None, from, offset, search, None, 64 * 1024)
    }

    #[test]
    fn arguments_choose_one_part() {
        assert_eq!(req(None, None, None).unwrap().part, Part::Tail);
        assert_eq!(req(Some("start"), None, None).unwrap().part, Part::Head);
        assert_eq!(req(None, Some(10), None).unwrap().part, Part::Range { offset: 10 });
        assert_eq!(req(None, None, Some("ERROR")).unwrap().part, Part::Search { needle: "error".into(), max_matches: 50 });
        for bad in [
            req(Some("middle"), None, None),
            req(Some("end"), Some(1), None),
            req(None, Some(-1), None),
            req(None, Some(i64::MAX), None),
            req(None, None, Some("  ")),
            req(None, None, Some(&"a".repeat(201))),
            LogRequest::from_args(Some(1 << 40), None, None, None, None, 64 * 1024),
            LogRequest::from_args(Some(-5), None, None, None, None, 64 * 1024),
            LogRequest::from_args(None, None, None, Some("x"), Some(0), 64 * 1024),
            LogRequest::from_args(None, None, None, None, Some(3), 64 * 1024),
        ] {
            assert!(bad.is_err(), "{bad:?}");
        }
        // max_bytes never exceeds the result budget.
        assert_eq!(LogRequest::from_args(Some(262_144), None, None, None, None, 8192).unwrap().max_bytes, 8192 - ANSWER_OVERHEAD);
    }

    #[test]
    fn ansi_codes_and_framing_are_removed() {
        let raw = "\u{2}\u{1b}[1m\u{1b}[32mApply complete!\u{1b}[0m\u{1b}[0m Resources: 1 added.\r\n\u{1b}]8;;http://x\u{7}link\u{1b}]8;;\u{1b}\\ done\u{3}";
        assert_eq!(strip_ansi(raw), "Apply complete! Resources: 1 added.\nlink done");
        // Unterminated sequences never panic nor loop.
        assert_eq!(strip_ansi("a\u{1b}["), "a");
        assert_eq!(strip_ansi("a\u{1b}"), "a");
        assert_eq!(strip_ansi("a\u{1b}]unterminated"), "a");
    }

    #[test]
    fn json_lines_render_as_readable_lines() {
        let line = r#"{"@level":"info","@message":"Terraform 1.9.0","@module":"terraform.ui","@timestamp":"2024-05-01T10:00:00.000000Z","terraform":"1.9.0","type":"version","ui":"1.2"}"#;
        assert_eq!(render_json_line(line).unwrap(), "2024-05-01T10:00:00.000000Z [info] Terraform 1.9.0");
        let diag = r#"{"@level":"error","@message":"Error: Invalid reference","@timestamp":"t","type":"diagnostic","diagnostic":{"severity":"error","summary":"Invalid reference","detail":"A reference to a resource type\nmust be followed","range":{"filename":"main.tf","start":{"line":12}}}}"#;
        assert_eq!(
            render_json_line(diag).unwrap(),
            "t [error] Error: Invalid reference: A reference to a resource type must be followed (main.tf:12)"
        );
        let colored = r#"{"@level":"error","@message":"\u001b[31mcheck failed\u001b[0m"}"#;
        assert_eq!(render_json_line(colored).unwrap(), "[error] check failed");
        assert_eq!(render_json_line("{not json}"), None);
        assert_eq!(render_json_line(r#"{"a":1}"#), None);
        assert_eq!(render_json_line("plain"), None);
        let (text, json) = render(format!("plain line\n{line}\n").as_bytes());
        assert!(json);
        assert_eq!(text, "plain line\n2024-05-01T10:00:00.000000Z [info] Terraform 1.9.0\n");
    }

    #[test]
    fn tail_and_window_keep_their_part_of_a_stream() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut t = Tail::new(1000);
        let mut w = Window::new(150_000, 1000);
        let mut w_past = Window::new(300_000, 10);
        for c in data.chunks(4096) {
            t.push(c);
            w.push(c);
            w_past.push(c);
        }
        assert_eq!(t.finish(), (199_000, data[199_000..].to_vec()));
        assert_eq!(w.buf, data[150_000..151_000].to_vec());
        assert!(w_past.buf.is_empty());
        let mut short = Window::new(0, 10);
        assert!(!short.push(&data[..20]));
        assert_eq!(short.buf, data[..10].to_vec());
    }

    #[test]
    fn search_is_line_based_case_insensitive_and_capped() {
        let mut s = Search::new("ERROR", 2);
        let log = "ok\nan Error here\n\u{1b}[31merror\u{1b}[0m: again\nfine\nERROR three\nlast error";
        for c in log.as_bytes().chunks(3) {
            s.push(c);
        }
        s.finish();
        assert_eq!(s.count, 4);
        assert_eq!(s.line, 6);
        assert_eq!(s.matches, vec![Match { line: 2, text: "an Error here".into() }, Match { line: 3, text: "error: again".into() }]);
    }

    #[test]
    fn search_bounds_very_long_lines() {
        let mut s = Search::new("needle", 5);
        let long = format!("{}needle{}", "x".repeat(200_000), "y".repeat(200_000));
        s.push(long.as_bytes());
        s.push(b"\nnext needle\n");
        s.finish();
        assert!(s.carry.is_empty());
        assert_eq!(s.line, 2);
        assert_eq!(s.matches.last().unwrap(), &Match { line: 2, text: "next needle".into() });
        assert!(s.matches.iter().all(|m| m.text.chars().count() <= MAX_MATCH_LINE_CHARS + 3));
    }

    #[test]
    fn text_fits_its_room_from_either_end() {
        let t = format!("start{}end", "\"quoted\"\n".repeat(10_000));
        let (text, _, dropped) = render_fitting(t.as_bytes(), 2000, true);
        assert!(json_len(&text) <= 2000 && text.ends_with("end") && dropped > 0);
        assert_eq!(text, render(&t.as_bytes()[dropped..]).0, "the range stays exact");
        let h = format!("start{}end", "é\u{1}".repeat(10_000));
        let (text, _, dropped) = render_fitting(h.as_bytes(), 2000, false);
        assert!(json_len(&text) <= 2000 && text.starts_with("start") && dropped > 0);
        assert_eq!(render_fitting(b"tiny", 2000, true), ("tiny".to_owned(), false, 0));
    }
}
