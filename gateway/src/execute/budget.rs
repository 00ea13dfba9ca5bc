//! The result budget: every tool result is at most a configured number of
//! bytes of compact JSON, so one answer cannot fill a model's context.
//!
//! Above the budget a result is trimmed in a fixed order, and says so:
//! 1. A list keeps the first items of its page (dropped from the end). The
//!    kept count `k` divides the page's offset, so the kept items are exactly
//!    one page of size `k` and `next_cursor` (page size `k`) continues right
//!    after them: no duplicates, no gaps. The result carries `truncated`,
//!    `returned` and `omitted`.
//! 2. Still too big, and one string is the cause (a log): only that string
//!    is shortened, just enough (log text keeps its end).
//! 3. Otherwise: long arrays anywhere in the result keep
//!    their first items and long strings are shortened (log text keeps its
//!    end), at the first of a few fixed levels that fits; `truncation.summarised`
//!    names what was cut, with the kept and total counts.
//! 4. Still too big: only the top-level scalar fields are kept.
//!
//! Every trimmed result carries `truncated: true` and a `truncation` object
//! (`max_bytes`, `original_bytes`, `hint` on what to call for the rest).

use serde_json::{Map, Value, json};

/// The budget when neither the gateway flag nor the server sets one.
pub const DEFAULT_MAX_RESULT_BYTES: usize = 64 * 1024;
/// The smallest budget honoured: room for the trimming note and one item.
pub const MIN_RESULT_BYTES: usize = 2048;
/// The largest per-server budget honoured (the CRD enforces it too).
pub const MAX_RESULT_BYTES: usize = 4 * 1024 * 1024;

/// Bytes kept free for the `truncation` note and flags added after trimming.
const NOTE_RESERVE: usize = 900;
/// How many summarised paths the note lists (the rest are counted).
const LISTED_PATHS: usize = 5;
/// (items kept per array, bytes kept per string), tried in order.
const LEVELS: &[(usize, usize)] = &[(200, 16384), (100, 8192), (50, 8192), (20, 4096), (10, 2048), (5, 1024), (2, 256), (1, 128), (0, 64)];
/// Strings whose key names text read from its end.
const TAIL_KEYS: &[&str] = &["log"];

/// Makes the `next_cursor` of a page of the call's query: `(page, page_size)`.
pub type CursorFn<'a> = &'a dyn Fn(u64, u64) -> String;

/// The budget that applies: the server's own when set, else the gateway's,
/// within [`MIN_RESULT_BYTES`]..=[`MAX_RESULT_BYTES`].
pub fn effective(server: Option<u64>, gateway: usize) -> usize {
    server.map(|b| usize::try_from(b).unwrap_or(usize::MAX)).unwrap_or(gateway).clamp(MIN_RESULT_BYTES, MAX_RESULT_BYTES)
}

/// Compact JSON size of a value (counted, nothing written).
pub fn size_of(v: &Value) -> usize {
    crate::json_write::compact_len(v)
}

/// Trim `value` to at most `max_bytes` (see the module documentation).
/// `cursor` is given for paged list tools.
pub fn fit(value: Value, max_bytes: usize, cursor: Option<CursorFn<'_>>) -> Value {
    let max = max_bytes.max(MIN_RESULT_BYTES);
    // A page's items are measured once: trimming it and the checks after
    // reuse their sizes (a page is the one result that is often over budget).
    let measured_items = list_item_sizes(&value);
    let mut item_sizes = measured_items.as_deref();
    let original = match &value {
        Value::Object(m) => measured(m, item_sizes),
        other => size_of(other),
    };
    if original <= max {
        return value;
    }
    let mut value = match value {
        Value::Object(m) => m,
        other => {
            let mut m = Map::new();
            m.insert("value".into(), other);
            m
        }
    };
    let mut note = Map::new();
    note.insert("max_bytes".into(), json!(max));
    note.insert("original_bytes".into(), json!(original));
    let target = max.saturating_sub(NOTE_RESERVE);

    let listed = item_sizes.is_some_and(|sizes| trim_list(&mut value, sizes, target, cursor, &mut note));
    if measured(&value, item_sizes) > target {
        // Both change the items: measured whole from here on.
        item_sizes = None;
        if !shorten_longest_string(&mut value, target, &mut note) {
            summarise(&mut value, target, &mut note);
        }
    }
    if !note.contains_key("hint") {
        let hint = if listed {
            "the items were cut to fit the result budget; see returned and omitted"
        } else {
            "long arrays were cut to their first items and long strings shortened to fit the result budget; \
             truncation.summarised names each cut (path, returned, total). Ask for less (a get tool by id, filters, a smaller page_size) for the rest"
        };
        note.insert("hint".into(), json!(hint));
    }
    value.insert("truncated".into(), json!(true));
    value.insert("truncation".into(), Value::Object(note));
    if measured(&value, item_sizes) > max {
        value = skeleton(value, max, original);
    }
    Value::Object(value)
}

fn size_of_map(m: &Map<String, Value>) -> usize {
    crate::json_write::map_len(m)
}

/// The sizes of a list's items (`results`), when `value` is a list.
fn list_item_sizes(value: &Value) -> Option<Vec<usize>> {
    match value.get("results")? {
        Value::Array(items) => Some(items.iter().map(size_of).collect()),
        _ => None,
    }
}

/// The size of `m`; its `results` counted from `item_sizes` (the sizes of
/// its first items, as [`list_item_sizes`] measured them) when given.
fn measured(m: &Map<String, Value>, item_sizes: Option<&[usize]>) -> usize {
    match (item_sizes, m.get("results")) {
        (Some(sizes), Some(Value::Array(items))) if items.len() <= sizes.len() => {
            let kept = &sizes[..items.len()];
            let array = 2 + kept.len().saturating_sub(1) + kept.iter().sum::<usize>();
            crate::json_write::map_len_given(m, "results", array)
        }
        _ => size_of_map(m),
    }
}

/// Keep the first items of a list page that fit `target` bytes. Returns
/// whether items were dropped.
fn trim_list(
    m: &mut Map<String, Value>,
    item_sizes: &[usize],
    target: usize,
    cursor: Option<CursorFn<'_>>,
    note: &mut Map<String, Value>,
) -> bool {
    let Some(Value::Array(items)) = m.get_mut("results") else { return false };
    let items = std::mem::take(items);
    let n = items.len();
    let base = size_of_map(m);
    // Cursor and flags added below.
    let extra = 400;
    let mut used = base + extra;
    let mut k = 0;
    for &size in item_sizes {
        let s = size + 1;
        if used + s > target {
            break;
        }
        used += s;
        k += 1;
    }
    let k = k.max(1);
    if k >= n {
        m.insert("results".into(), Value::Array(items));
        return false;
    }
    let pagination = m.get("pagination");
    let num = |key: &str| pagination.and_then(|p| p.get(key)).and_then(Value::as_u64);
    let page = num("page_number").unwrap_or(1).max(1);
    let page_size = num("page_size").unwrap_or(crate::catalog::DEFAULT_PAGE_SIZE).max(1);
    let offset = (page - 1).saturating_mul(page_size);
    let (k, hint) = match cursor {
        Some(make) => {
            // The kept items must be exactly one page of size k.
            let k = (1..=k as u64).rev().find(|k| offset % k == 0).unwrap_or(1);
            let next_page = offset / k + 2;
            m.insert("next_cursor".into(), json!(make(next_page, k)));
            note.insert("next".into(), json!({"page_number": next_page, "page_size": k}));
            let hint = format!(
                "only the first {k} of the {n} items of this page fit the result budget; next_cursor continues right after them \
                 (page_size {k}, page_number {next_page}); a smaller page_size avoids the cut"
            );
            (k as usize, hint)
        }
        None => (k, format!("only the first {k} of the {n} items fit the result budget; narrow the query (filters) to see the rest")),
    };
    let mut items = items;
    items.truncate(k);
    m.insert("results".into(), Value::Array(items));
    m.insert("returned".into(), json!(k));
    m.insert("omitted".into(), json!(n - k));
    note.insert("hint".into(), json!(hint));
    true
}

/// When one string (a log, a description) is what makes the result too big,
/// shorten only it, just enough (log text keeps its end). Returns whether
/// the result now fits `target`.
fn shorten_longest_string(m: &mut Map<String, Value>, target: usize, note: &mut Map<String, Value>) -> bool {
    let Some((path, key, len)) = longest_string(m) else { return false };
    let excess = size_of_map(m).saturating_sub(target);
    // JSON escapes (newlines, control characters) make the text longer than
    // the string: keep the share of the string its allowed text size is.
    let escaped = match pointer_mut(m, &path) {
        Some(v) => size_of(v).max(1),
        None => return false,
    };
    let Some(allowed) = escaped.checked_sub(excess + 64) else { return false };
    for share in [100, 85] {
        let keep = (allowed as u128 * len as u128 * share / 100 / escaped as u128) as usize;
        let mut candidate = m.clone();
        if let Some(Value::String(s)) = pointer_mut(&mut candidate, &path) {
            *s = shorten(s, keep, TAIL_KEYS.contains(&key.as_str()));
        }
        if size_of_map(&candidate) <= target {
            *m = candidate;
            note.insert("shortened".into(), json!({"path": path, "total_bytes": len}));
            note.entry("hint").or_insert_with(|| {
                json!("one long string (truncation.shortened) was shortened to fit the result budget; ask for less (for logs a smaller max_bytes) to see it whole")
            });
            return true;
        }
    }
    false
}

/// JSON pointer, key and byte length of the longest string.
fn longest_string(m: &Map<String, Value>) -> Option<(String, String, usize)> {
    fn walk(v: &Value, path: &str, key: &str, best: &mut Option<(String, String, usize)>) {
        match v {
            Value::String(s) if best.as_ref().is_none_or(|b| s.len() > b.2) => *best = Some((path.to_owned(), key.to_owned(), s.len())),
            Value::Array(a) => a.iter().enumerate().for_each(|(i, item)| walk(item, &format!("{path}/{i}"), key, best)),
            Value::Object(o) => o.iter().for_each(|(k, item)| walk(item, &format!("{path}/{}", escape(k)), k, best)),
            _ => {}
        }
    }
    let mut best = None;
    for (k, v) in m {
        walk(v, &format!("/{}", escape(k)), k, &mut best);
    }
    best
}

fn pointer_mut<'v>(m: &'v mut Map<String, Value>, path: &str) -> Option<&'v mut Value> {
    let (first, rest) = path.strip_prefix('/')?.split_once('/').map_or((path.strip_prefix('/')?, ""), |(a, b)| (a, b));
    let first = first.replace("~1", "/").replace("~0", "~");
    let v = m.get_mut(&first)?;
    if rest.is_empty() { Some(v) } else { v.pointer_mut(&format!("/{rest}")) }
}

/// What one summarising pass cut.
#[derive(Default)]
struct Cuts {
    arrays: Vec<Value>,
    strings: usize,
}

impl Cuts {
    fn array(&mut self, path: &str, returned: usize, total: usize) {
        self.arrays.push(json!({"path": path, "returned": returned, "total": total}));
    }
}

/// Cut long arrays and strings at the first level that fits `target`.
fn summarise(m: &mut Map<String, Value>, target: usize, note: &mut Map<String, Value>) {
    for &(items, chars) in LEVELS {
        let mut candidate = m.clone();
        let mut cuts = Cuts::default();
        for (k, v) in candidate.iter_mut() {
            // The page itself was already trimmed by count.
            let limit = if k == "results" { usize::MAX } else { items };
            cut(v, &format!("/{}", escape(k)), k, limit, items, chars, &mut cuts);
        }
        if size_of_map(&candidate) <= target || (items, chars) == *LEVELS.last().unwrap_or(&(0, 0)) {
            *m = candidate;
            let total = cuts.arrays.len();
            let listed: Vec<Value> = cuts.arrays.into_iter().take(LISTED_PATHS).collect();
            note.insert("summarised".into(), Value::Array(listed));
            if total > LISTED_PATHS {
                note.insert("summarised_more".into(), json!(total - LISTED_PATHS));
            }
            note.insert("strings_shortened".into(), json!(cuts.strings));
            note.insert("kept_per_array".into(), json!(items));
            return;
        }
    }
}

fn cut(v: &mut Value, path: &str, key: &str, limit: usize, items: usize, chars: usize, cuts: &mut Cuts) {
    match v {
        Value::Array(a) => {
            if a.len() > limit {
                cuts.array(path, limit, a.len());
                a.truncate(limit);
            }
            for (i, item) in a.iter_mut().enumerate() {
                cut(item, &format!("{path}/{i}"), key, items, items, chars, cuts);
            }
        }
        Value::Object(o) => {
            for (k, item) in o.iter_mut() {
                cut(item, &format!("{path}/{}", escape(k)), k, items, items, chars, cuts);
            }
        }
        Value::String(s) if s.len() > chars => {
            *s = shorten(s, chars, TAIL_KEYS.contains(&key));
            cuts.strings += 1;
        }
        _ => {}
    }
}

/// A JSON pointer segment.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// `s` cut to about `keep` bytes on a character boundary, saying how much went.
fn shorten(s: &str, keep: usize, from_end: bool) -> String {
    if from_end {
        let mut start = s.len().saturating_sub(keep);
        while !s.is_char_boundary(start) {
            start += 1;
        }
        format!("[… {start} earlier bytes cut] {}", &s[start..])
    } else {
        let mut end = keep.min(s.len());
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{} [… {} more bytes cut]", &s[..end], s.len() - end)
    }
}

/// The last resort: the top-level scalar fields and the note.
fn skeleton(m: Map<String, Value>, max: usize, original: usize) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in m {
        match v {
            Value::String(s) => {
                out.insert(k, Value::String(if s.len() > 128 { shorten(&s, 128, false) } else { s }));
            }
            Value::Array(_) | Value::Object(_) => {}
            scalar => {
                out.insert(k, scalar);
            }
        }
    }
    out.insert("truncated".into(), json!(true));
    out.insert(
        "truncation".into(),
        json!({
            "max_bytes": max,
            "original_bytes": original,
            "hint": "the result is too large for the result budget even summarised; only its top-level fields are kept. Ask for less (a get tool by id, filters, a smaller page_size)",
        }),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(n: usize, page_number: u64, page_size: u64) -> Value {
        let results: Vec<Value> = (0..n)
            .map(|i| json!({"id": format!("ws-{i:04}"), "type": "workspaces", "name": format!("w{i}"), "pad": "x".repeat(300)}))
            .collect();
        json!({"results": results, "pagination": {"page_number": page_number, "page_size": page_size, "total_count": 1000, "next_page": page_number + 1}, "next_cursor": "c"})
    }

    #[test]
    fn small_results_are_untouched() {
        let v = page(3, 1, 20);
        assert_eq!(fit(v.clone(), 64 * 1024, None), v);
    }

    #[test]
    fn a_page_keeps_a_prefix_that_is_itself_a_page() {
        let make = |p: u64, s: u64| format!("{p}:{s}");
        let v = fit(page(100, 3, 100), 8192, Some(&make));
        assert!(size_of(&v) <= 8192, "{}", size_of(&v));
        let k = v["returned"].as_u64().unwrap();
        assert_eq!(v["results"].as_array().unwrap().len() as u64, k);
        assert_eq!(v["omitted"].as_u64().unwrap(), 100 - k);
        assert_eq!(200 % k, 0, "the kept items are page {} of size {k}", 200 / k + 1);
        assert_eq!(v["next_cursor"], json!(format!("{}:{k}", 200 / k + 2)));
        assert_eq!(v["truncated"], json!(true));
        assert_eq!(v["results"][0]["id"], "ws-0000");
    }

    #[test]
    fn a_list_measured_from_its_item_sizes_is_measured_exactly() {
        let mut v = page(7, 1, 20);
        v["results"][2]["pad"] = json!("quote \" backslash \\ newline \n bell \u{7} é");
        v["results"][4]["nested"] = json!([{"a": null}, [], {}, 1.5, -3, true]);
        let sizes = list_item_sizes(&v).unwrap();
        let Value::Object(mut m) = v else { unreachable!() };
        assert_eq!(measured(&m, Some(&sizes)), size_of_map(&m));
        // The first items kept, as trimming keeps them; none; more than measured.
        for keep in [3, 1, 0] {
            if let Some(Value::Array(items)) = m.get_mut("results") {
                items.truncate(keep);
            }
            assert_eq!(measured(&m, Some(&sizes)), size_of_map(&m), "{keep} kept");
        }
        m.insert("results".into(), json!([1, 2, 3, 4, 5, 6, 7, 8, 9]));
        assert_eq!(measured(&m, Some(&sizes)), size_of_map(&m));
        assert_eq!(list_item_sizes(&json!([1])), None);
        assert_eq!(list_item_sizes(&json!({"results": {}})), None);
    }

    #[test]
    fn long_arrays_inside_one_resource_are_summarised() {
        let resources: Vec<Value> = (0..500).map(|i| json!({"address": format!("null_resource.r{i}"), "attrs": {"id": i}})).collect();
        let v = fit(json!({"state_version_id": "sv-1", "state": {"version": 4, "resources": resources}}), 4096, None);
        assert!(size_of(&v) <= 4096);
        assert_eq!(v["state_version_id"], "sv-1");
        let s = &v["truncation"]["summarised"][0];
        assert_eq!(s["path"], "/state/resources");
        assert_eq!(s["total"], 500);
        assert_eq!(v["state"]["resources"].as_array().unwrap().len() as u64, s["returned"].as_u64().unwrap());
    }

    #[test]
    fn logs_keep_their_end_and_as_much_as_fits() {
        let log = format!("{}THE END", "a\n".repeat(50_000));
        let v = fit(json!({"plan_id": "plan-1", "log": log, "truncated": false}), 8192, None);
        let kept = v["log"].as_str().unwrap();
        assert!(kept.ends_with("THE END"));
        assert!(size_of(&v) <= 8192 && kept.len() > 2048, "{} {}", size_of(&v), kept.len());
        assert_eq!(v["truncated"], true);
        assert_eq!(v["truncation"]["shortened"], json!({"path": "/log", "total_bytes": 100_007}));
    }

    #[test]
    fn nothing_exceeds_the_budget() {
        let wide: Map<String, Value> = (0..5000).map(|i| (format!("k{i}"), json!(i))).collect();
        let v = fit(json!({"id": "x", "wide": {"inner": wide}}), 2048, None);
        assert!(size_of(&v) <= 2048, "{}", size_of(&v));
        assert_eq!(v["id"], "x");
        assert_eq!(fit(json!("y".repeat(10_000)), 2048, None)["truncated"], true);
    }

    #[test]
    fn budgets_are_bounded() {
        assert_eq!(effective(None, 65536), 65536);
        assert_eq!(effective(Some(4096), 65536), 4096);
        assert_eq!(effective(Some(1), 65536), MIN_RESULT_BYTES);
        assert_eq!(effective(Some(u64::MAX), 65536), MAX_RESULT_BYTES);
    }
}
