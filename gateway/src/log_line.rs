//! The JSON log line (`--log-format json`), written by hand: byte for byte
//! what tracing-subscriber's `json().flatten_event(true)` writes, for the
//! events outside any span (all of the gateway's own, the audit line of
//! every tool call among them) in a third of its instructions: no serde
//! map, no `fmt` machinery for the timestamp, the level or a string field.
//! An event inside a span, or bridged from the `log` crate, is left to
//! tracing-subscriber's own formatter, which also writes the span's fields.

use std::fmt::{self, Write as _};

use tracing::{Event, Subscriber, field::Field};
use tracing_subscriber::{
    fmt::{
        FmtContext, FormatEvent, FormatFields,
        format::{Format, Json, Writer},
        time::SystemTime,
    },
    registry::LookupSpan,
};

use crate::json_write::write_str;

/// The event formatter; see the module's documentation.
pub struct JsonLine {
    /// tracing-subscriber's own formatter, with the same settings.
    inner: Format<Json, SystemTime>,
}

impl JsonLine {
    pub fn new() -> Self {
        Self { inner: Format::default().json().flatten_event(true) }
    }
}

impl Default for JsonLine {
    fn default() -> Self {
        Self::new()
    }
}

impl<S, N> FormatEvent<S, N> for JsonLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let meta = event.metadata();
        // The span the inner formatter would write, found as it finds it.
        let in_span = event.parent().and_then(|id| ctx.span(id)).or_else(|| ctx.lookup_current()).is_some();
        let now = std::time::SystemTime::now();
        if in_span || meta.fields().field("log.target").is_some() || !written_as_is(now) {
            return self.inner.format_event(ctx, writer, event);
        }
        let mut line = Vec::with_capacity(256);
        line.extend_from_slice(br#"{"timestamp":""#);
        write_timestamp(&mut line, now);
        line.extend_from_slice(br#"","level":""#);
        line.extend_from_slice(meta.level().as_str().as_bytes());
        line.push(b'"');
        let mut fields = Fields { line, text: String::new() };
        event.record(&mut fields);
        let mut line = fields.line;
        line.extend_from_slice(br#","target":"#);
        write_str(&mut line, meta.target());
        line.extend_from_slice(b"}\n");
        writer.write_str(std::str::from_utf8(&line).map_err(|_| fmt::Error)?)
    }
}

/// Each field as `,"name":value`, typed as tracing-serde types it: strings,
/// booleans and 64-bit integers as themselves, a float as serde_json writes
/// one (`null` when not finite), anything else as its `Debug` text.
struct Fields {
    line: Vec<u8>,
    /// Reused for each `Debug` text.
    text: String,
}

impl Fields {
    fn name(&mut self, field: &Field) {
        self.line.push(b',');
        write_str(&mut self.line, field.name());
        self.line.push(b':');
    }
}

impl tracing::field::Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.name(field);
        write_str(&mut self.line, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.name(field);
        self.line.extend_from_slice(if value { b"true" } else { b"false" });
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.name(field);
        self.line.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.name(field);
        self.line.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.name(field);
        // serde_json's own writing (shortest round trip; `null` when not finite).
        let _ = serde_json::to_writer(&mut self.line, &value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.name(field);
        self.text.clear();
        let _ = write!(self.text, "{value:?}");
        write_str(&mut self.line, &self.text);
    }
}

/// Times from 1970 to 9999, whose year tracing-subscriber writes as four
/// digits (the rest are left to it).
fn written_as_is(now: std::time::SystemTime) -> bool {
    const YEAR_10000: u64 = 253_402_300_800;
    now.duration_since(std::time::UNIX_EPOCH).is_ok_and(|since| since.as_secs() < YEAR_10000)
}

/// `2026-12-01T06:10:02.568708Z`: UTC, microseconds, as tracing-subscriber's
/// `SystemTime` writes a time [`written_as_is`].
fn write_timestamp(out: &mut Vec<u8>, now: std::time::SystemTime) {
    let since = now.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (year, month, day) = civil_from_days(secs / 86_400);
    let of_day = secs % 86_400;
    let mut stamp = *b"0000-00-00T00:00:00.000000Z";
    // Each value's digits, right-aligned in the field ending at `end`.
    let mut put = |mut value: u64, end: usize, width: usize| {
        for slot in stamp[end - width..end].iter_mut().rev() {
            *slot = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(year, 4, 4);
    put(month, 7, 2);
    put(day, 10, 2);
    put(of_day / 3600, 13, 2);
    put(of_day / 60 % 60, 16, 2);
    put(of_day % 60, 19, 2);
    put(u64::from(since.subsec_micros()), 26, 6);
    out.extend_from_slice(&stamp);
}

/// Year, month and day of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for days after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::{
        sync::{Arc, Mutex},
        time::{Duration, UNIX_EPOCH},
    };

    use tracing::{Level, debug, error, info, info_span, subscriber::with_default, trace, warn};
    use tracing_subscriber::fmt::MakeWriter;

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl MakeWriter<'_> for Buffer {
        type Writer = Buffer;
        fn make_writer(&self) -> Buffer {
            self.clone()
        }
    }

    /// The lines `emit` logs, by this formatter or by tracing-subscriber's,
    /// each timestamp made `T` (and checked to be one).
    fn lines(by_hand: bool, emit: &dyn Fn()) -> Vec<String> {
        let buffer = Buffer::default();
        let builder = tracing_subscriber::fmt().with_writer(buffer.clone()).with_max_level(Level::TRACE).json().flatten_event(true);
        if by_hand {
            with_default(builder.event_format(JsonLine::new()).finish(), emit);
        } else {
            with_default(builder.finish(), emit);
        }
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert!(text.ends_with('\n'));
        text.lines()
            .map(|line| {
                let rest = line.strip_prefix(r#"{"timestamp":""#).expect(line);
                let (stamp, rest) = rest.split_at(27);
                assert!(chrono::DateTime::parse_from_rfc3339(stamp).is_ok() && stamp.ends_with('Z'), "{stamp}");
                format!("T{rest}")
            })
            .collect()
    }

    #[derive(Debug)]
    #[allow(dead_code)]
    struct Shape {
        name: &'static str,
        sides: u8,
    }

    #[test]
    fn lines_are_tracing_subscribers_byte_for_byte() {
        let emit = || {
            let server = String::from("team-a/prod");
            let missing: Option<&str> = None;
            let status: Option<u16> = Some(429);
            info!(target: "audit", server = %server, token = %"b8187863", caller = missing, tool = "list_runs", via = Some("tasks"),
                  outcome = "ok", upstream_status = status, duration_ms = 12u64, "tool call");
            warn!(quote = "a \"quoted\" \\ path\n\t\r\u{1}\u{1f}\u{7f} é 🚀", "escapes in a {} message: \"{}\"", "formatted", '\\');
            error!(negative = -42i64, big = u64::MAX, small = i64::MIN, yes = true, no = false, "numbers");
            debug!(half = 1.5f64, nan = f64::NAN, inf = f64::INFINITY, tiny = 1e-300f64, huge = 1e300f64, minus_zero = -0.0f64);
            trace!(wide = 1u128 << 100, wider = -(1i128 << 100), shape = ?Shape { name: "square", sides: 4 });
            let failure = std::io::Error::other("disk \"full\"");
            error!(error = &failure as &(dyn std::error::Error + 'static), "with an error");
            info!(target: "a::b", r#type = "raw", a.dotted = "x");
            info!(bytes = ?b"\x00\xff".as_slice());
            // Inside spans: left to tracing-subscriber, which also writes them.
            let span = info_span!("outer", route = "r1");
            let _entered = span.enter();
            info!(inside = 1u64, "in a span");
            info!(parent: None, "a root event while a span is entered");
        };
        let by_hand = lines(true, &emit);
        assert_eq!(by_hand, lines(false, &emit));
        assert_eq!(by_hand.len(), 10);
        assert!(by_hand[8].contains(r#""span":{"route":"r1","name":"outer"}"#), "{}", by_hand[8]);
    }

    #[test]
    fn timestamps_are_written_as_tracing_subscriber_writes_them() {
        let check = |secs: u64, micros: u32| {
            let time = UNIX_EPOCH + Duration::new(secs, micros * 1000 + 999);
            let mut out = Vec::new();
            write_timestamp(&mut out, time);
            let expected = chrono::DateTime::<chrono::Utc>::from(time).format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
            assert_eq!(String::from_utf8(out).unwrap(), expected, "{secs}");
        };
        // The epoch, leap days and centuries, the last second before year 10000.
        for secs in [0, 59, 86_399, 951_782_400, 951_868_799, 4_107_542_400, 1_764_568_202, 253_402_300_799] {
            check(secs, 568_708);
        }
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            check(x % 253_402_300_800, (x >> 40) as u32 % 1_000_000);
        }
        assert!(written_as_is(UNIX_EPOCH) && !written_as_is(UNIX_EPOCH + Duration::from_secs(253_402_300_800)));
        assert!(!written_as_is(UNIX_EPOCH - Duration::from_secs(1)));
    }
}
