//! An answer flattened straight into the bytes the MCP answer carries (a
//! list, or one resource): its structured content (compact JSON) and its
//! text block (the same without null members, as the inside of a JSON
//! string). Nothing is built only to be written: the text is read token
//! by token ([`json_scan`](crate::json_scan): a page is thousands of keys
//! and strings, and serde's visitors cost more than reading them), each
//! resource's fields are written as they are read, then put in name order
//! by their byte ranges, and the server's output rules (write-only values,
//! sensitive outputs) are applied to those ranges. Each item keeps its
//! organization, for the allow-list. In a list, an attribute sent exactly
//! as the one in its place in the previous resource is copied from it (see
//! [`Recall`]).
//!
//! The bytes are the ones the tree's path writes (`jsonapi_parse`'s
//! flattening, the output rules, the allow-list, `json_write`), checked
//! byte for byte by the tests. Anything the tree's path would read
//! otherwise is unusual here too and gives `None`: the caller then takes
//! the tree's path. So are `data` that is neither a list nor an object,
//! items that are not objects, a repeated key anywhere (a tree keeps the
//! last), a name that needs escapes (written, it might sort otherwise),
//! objects nested deeper than [`MAX_REORDERED_DEPTH`] whose members need
//! reordering, and a single resource with a field named `included` or
//! `results` (the tree's output rules and allow-list read those as lists).

use std::ops::Range;

use super::*;
use crate::{
    json_scan::{Next, Scanner, Str, is_plain_integer},
    json_write::{needs_no_escape, write_members_twice, write_plain_string_twice, write_string_twice, write_text_and_value},
    jsonapi::{is_name_byte, link_fields_of},
};

/// An answer's bytes, and each resource's skeleton (when asked for).
pub struct Written {
    /// Where the resources are written, one after another.
    arena: Arena,
    shape: Shape,
    /// `None`: no `included`, or not a list (the tree drops it).
    included: Option<Items>,
}

enum Shape {
    /// `envelope`: `pagination` and `next_cursor`, as the tree's list has them.
    List {
        envelope: Map<String, Value>,
        results: Items,
    },
    Resource(Resource),
}

/// The two texts of a result (what `json_write::write_text_and_value`
/// writes of it), each written out once, where the response needs it:
/// the resources stay where they were written.
#[derive(Debug)]
pub struct WrittenAnswer {
    arena: Arena,
    structured: Spliced,
    text: Spliced,
}

impl WrittenAnswer {
    /// The structured content's length in bytes.
    pub fn structured_len(&self) -> usize {
        self.structured.len()
    }

    /// The text block's length (the inside of its JSON string).
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    pub fn write_structured(&self, out: &mut Vec<u8>) {
        self.structured.write(&self.arena.s, out);
    }

    pub fn write_text(&self, out: &mut Vec<u8>) {
        self.text.write(&self.arena.t, out);
    }

    /// The structured content's bytes.
    pub fn structured(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.structured_len());
        self.write_structured(&mut out);
        out
    }

    /// The text block's bytes.
    pub fn text(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.text_len());
        self.write_text(&mut out);
        out
    }
}

/// A text of its own bytes with runs of the arena put in at places
/// (`runs`: where in `own`, and which bytes of the arena's text).
#[derive(Debug, Default)]
struct Spliced {
    own: Vec<u8>,
    runs: Vec<(usize, Range<usize>)>,
}

impl Spliced {
    fn len(&self) -> usize {
        self.own.len() + self.runs.iter().map(|(_, run)| run.len()).sum::<usize>()
    }

    /// The arena's bytes `run` put in here.
    fn splice(&mut self, run: Range<usize>) {
        self.runs.push((self.own.len(), run));
    }

    /// A comma, when this text holds a member since length `start`.
    fn separate(&mut self, start: usize) {
        if self.len() > start {
            self.own.push(b',');
        }
    }

    /// Members written comma-separated in the arena (`run`, perhaps none),
    /// after those this text holds since length `start`.
    fn append_run(&mut self, start: usize, run: Range<usize>) {
        if !run.is_empty() {
            self.separate(start);
            self.splice(run);
        }
    }

    fn write(&self, arena: &[u8], out: &mut Vec<u8>) {
        out.reserve(self.len());
        let mut at = 0;
        for (place, run) in &self.runs {
            out.extend_from_slice(&self.own[at..*place]);
            out.extend_from_slice(&arena[run.clone()]);
            at = *place;
        }
        out.extend_from_slice(&self.own[at..]);
    }
}

/// What the output rules need of the server: whether sensitive outputs
/// show, and whether each item's organization is kept (allow-lists).
pub struct OutputRules {
    pub reveal_sensitive_outputs: bool,
    pub record_organizations: bool,
}

/// The answer `bytes` (a list document, or one resource's), written;
/// `None` when it must take the tree's path (see the module's header).
pub fn flatten_document<'t>(
    bytes: &'t [u8],
    base: Option<&Url>,
    requested_page: Option<u64>,
    requested_size: Option<u64>,
    grants: &Grants,
    rules: &OutputRules,
    with_skeletons: bool,
) -> Option<(Written, Vec<Skeleton<Cow<'t, str>>>)> {
    let skeletons = Skeletons::default();
    let cx = Context { base, grants, skeletons: with_skeletons.then_some(&skeletons) };
    let text = std::str::from_utf8(bytes).ok()?;
    let mut p = Scanner::new(text);
    // Flattened, an answer is about as long as its text: written once, not grown.
    let mut arena = Arena { s: Vec::with_capacity(bytes.len()), t: Vec::with_capacity(bytes.len()) };
    let doc = read_document(&mut p, &cx, rules, &mut arena)?;
    p.end()?;
    let WrittenDoc { data, included, meta, links } = doc;
    let shape = match data {
        WrittenData::List(results) => {
            let mut envelope = Map::new();
            if let Some(meta) = meta {
                envelope.insert("meta".into(), meta);
            }
            if let Some(links) = links {
                envelope.insert("links".into(), links);
            }
            let pagination = pagination(&Value::Object(envelope), requested_page, requested_size, results.spans.len());
            let Value::Object(mut envelope) = list_result(Vec::new(), pagination, None) else { return None };
            envelope.remove("results");
            Shape::List { envelope, results }
        }
        WrittenData::Resource(resource) => Shape::Resource(resource),
    };
    let mut all = skeletons.data.into_inner();
    all.extend(skeletons.included.into_inner());
    Some((Written { arena, shape, included }, all))
}

impl Written {
    /// A list's `pagination` and `next_cursor`; `None` for a resource.
    pub fn envelope_mut(&mut self) -> Option<&mut Map<String, Value>> {
        match &mut self.shape {
            Shape::List { envelope, .. } => Some(envelope),
            Shape::Resource(_) => None,
        }
    }

    /// For one resource: the organization it names, when it does (as the
    /// allow-list reads it; kept only with `record_organizations`).
    pub fn resource_organization(&self) -> Option<Option<&str>> {
        match &self.shape {
            Shape::Resource(resource) => Some(resource.organization.as_deref()),
            Shape::List { .. } => None,
        }
    }

    /// Keeps the items (a list's results, and included records) whose
    /// organization, when they name one, `allowed` says yes to.
    pub fn retain_organizations(&mut self, allowed: impl Fn(&str) -> bool) {
        let results = match &mut self.shape {
            Shape::List { results, .. } => Some(results),
            Shape::Resource(_) => None,
        };
        for items in results.into_iter().chain(self.included.as_mut()) {
            items.spans.retain(|item| item.organization.as_deref().is_none_or(&allowed));
        }
    }

    /// The answer's two texts, null members left out of the text: a list's
    /// members in name order (`included`, `next_cursor`, `pagination`,
    /// `results`); a resource's fields with `included` in its place.
    pub fn finish(self) -> WrittenAnswer {
        let (mut s, mut t) = (Spliced::default(), Spliced::default());
        match &self.shape {
            Shape::List { envelope, results } => finish_list(envelope, results, self.included.as_ref(), &mut s, &mut t),
            Shape::Resource(resource) => resource.finish(self.included.as_ref(), &mut s, &mut t),
        }
        WrittenAnswer { arena: self.arena, structured: s, text: t }
    }
}

fn finish_list(envelope: &Map<String, Value>, results: &Items, included: Option<&Items>, s: &mut Spliced, t: &mut Spliced) {
    enum Part<'a> {
        Value(&'a Value),
        Items(&'a Items),
    }
    let mut members: Vec<(&str, Part<'_>)> = envelope.iter().map(|(name, v)| (name.as_str(), Part::Value(v))).collect();
    members.push(("results", Part::Items(results)));
    if let Some(included) = included {
        members.push(("included", Part::Items(included)));
    }
    members.sort_by(|a, b| a.0.cmp(b.0));
    s.own.push(b'{');
    t.own.push(b'{');
    let is_null = |part: &Part<'_>| matches!(part, Part::Value(Value::Null));
    let (s_runs, t_runs) = (&mut s.runs, &mut t.runs);
    write_members_twice(&mut t.own, &mut s.own, members, is_null, |t_own, s_own, part| match part {
        Part::Value(v) => write_text_and_value(t_own, s_own, v),
        Part::Items(items) => items.write_array(s_own, s_runs, t_own, t_runs),
    });
    s.own.push(b'}');
    t.own.push(b'}');
}

// ---- items -----------------------------------------------------------------------

/// The two texts of resources written one after another.
#[derive(Debug)]
struct Arena {
    s: Vec<u8>,
    t: Vec<u8>,
}

/// A list of resources: where each is in the arena.
#[derive(Default)]
struct Items {
    spans: Vec<Item>,
}

struct Item {
    s: Range<usize>,
    t: Range<usize>,
    /// The organization the flat resource names (as the allow-list reads it).
    organization: Option<String>,
}

impl Items {
    /// `[item,...]`: the brackets and commas in `s_own`/`t_own`, each item
    /// a run of the arena put in there (`s_runs`/`t_runs`).
    fn write_array(
        &self,
        s_own: &mut Vec<u8>,
        s_runs: &mut Vec<(usize, Range<usize>)>,
        t_own: &mut Vec<u8>,
        t_runs: &mut Vec<(usize, Range<usize>)>,
    ) {
        s_own.push(b'[');
        t_own.push(b'[');
        for (i, item) in self.spans.iter().enumerate() {
            if i > 0 {
                s_own.push(b',');
                t_own.push(b',');
            }
            s_runs.push((s_own.len(), item.s.clone()));
            t_runs.push((t_own.len(), item.t.clone()));
        }
        s_own.push(b']');
        t_own.push(b']');
    }
}

/// One resource's fields (in name order), written without braces in two
/// runs: before and after where `included` goes.
struct Resource {
    before: Span,
    after: Span,
    /// The organization the flat resource names (as the allow-list reads it).
    organization: Option<String>,
}

/// Members written one after another, comma-separated, in the arena's two
/// texts (the text's range is empty when every one of them is null).
struct Span {
    s: Range<usize>,
    t: Range<usize>,
}

impl Resource {
    /// `{before,"included":[...],after}`, as `single_result` inserts
    /// `included` into the flat resource.
    fn finish(&self, included: Option<&Items>, s: &mut Spliced, t: &mut Spliced) {
        s.own.push(b'{');
        t.own.push(b'{');
        // Each text has its own separators: null members are only in one.
        let (s0, t0) = (s.len(), t.len());
        let run = |s: &mut Spliced, t: &mut Spliced, span: &Span| {
            s.append_run(s0, span.s.clone());
            t.append_run(t0, span.t.clone());
        };
        run(s, t, &self.before);
        if let Some(included) = included {
            s.separate(s0);
            t.separate(t0);
            write_string_twice(&mut t.own, &mut s.own, "included");
            s.own.push(b':');
            t.own.push(b':');
            included.write_array(&mut s.own, &mut s.runs, &mut t.own, &mut t.runs);
        }
        run(s, t, &self.after);
        s.own.push(b'}');
        t.own.push(b'}');
    }
}

/// A comma, when `out` holds a member since `start`.
fn separate(out: &mut Vec<u8>, start: usize) {
    if out.len() > start {
        out.push(b',');
    }
}

/// Members written comma-separated (`run`, perhaps none), after those
/// `out` holds since `start`.
fn append_run(out: &mut Vec<u8>, start: usize, run: &[u8]) {
    if !run.is_empty() {
        separate(out, start);
        out.extend_from_slice(run);
    }
}

// ---- the document ----------------------------------------------------------------

struct WrittenDoc {
    data: WrittenData,
    included: Option<Items>,
    meta: Option<Value>,
    links: Option<Value>,
}

enum WrittenData {
    List(Items),
    Resource(Resource),
}

/// What every part of one document is written with: `Cx`, its skeletons'
/// strings borrowed from the text where they can be.
struct Context<'a, 'de> {
    base: Option<&'a Url>,
    grants: &'a Grants,
    skeletons: Option<&'a Skeletons<Cow<'de, str>>>,
}

/// Sets a member seen once; a second time is unusual (a tree keeps the last).
fn set_once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    slot.is_none().then(|| *slot = Some(value))
}

fn read_document<'de>(p: &mut Scanner<'de>, cx: &Context<'_, 'de>, rules: &OutputRules, arena: &mut Arena) -> Option<WrittenDoc> {
    let (mut data, mut included, mut meta, mut links) = (None, None, None, None);
    let mut kept = KeptScratch::take();
    let sc = &mut kept.0;
    let lists = |skeletons| Lists { cx, rules, skeletons };
    p.object()?;
    let mut first = true;
    while let Some(key) = p.key(&mut first)? {
        match &*key.text()? {
            "data" => set_once(&mut data, lists(cx.skeletons.map(|s| &s.data)).data(p, sc, arena)?)?,
            "included" => set_once(&mut included, lists(cx.skeletons.map(|s| &s.included)).list(p, sc, arena)?)?,
            "meta" => set_once(&mut meta, p.value()?)?,
            "links" => set_once(&mut links, p.value()?)?,
            _ => _ = p.skip()?,
        }
    }
    // `data` must be a list or a resource; `included` is dropped when it is not a list.
    Some(WrittenDoc { data: data.flatten()?, included: included.flatten(), meta, links })
}

/// What `data` and `included` are written with.
struct Lists<'a, 'de> {
    cx: &'a Context<'a, 'de>,
    rules: &'a OutputRules,
    skeletons: SkeletonsOf<'a, Cow<'de, str>>,
}

impl<'de> Lists<'_, 'de> {
    /// `data`: a list of resources, or one; `None` inside for a scalar
    /// (the tree keeps it as it is).
    fn data(self, p: &mut Scanner<'de>, scratch: &mut Scratch, arena: &mut Arena) -> Option<Option<WrittenData>> {
        if p.peek()? != Next::Object {
            return Some(self.list(p, scratch, arena)?.map(WrittenData::List));
        }
        let mut resource = None;
        let Self { cx, rules, skeletons } = self;
        ResourceWriter { cx, rules, scratch, arena, out: Out::Resource(&mut resource), skeletons, recall: None }.write(p)?;
        Some(resource.map(WrittenData::Resource))
    }

    /// A list of resources, written; `None` inside for an object or a
    /// scalar (checked as JSON: the tree drops an `included` that is not a list).
    fn list(self, p: &mut Scanner<'de>, scratch: &mut Scratch, arena: &mut Arena) -> Option<Option<Items>> {
        if p.peek()? != Next::Array {
            p.skip()?;
            return Some(None);
        }
        let mut items = Items::default();
        let mut recall = Recall::default();
        p.array()?;
        let mut first = true;
        while p.item(&mut first)? {
            let resource = ResourceWriter {
                cx: self.cx,
                rules: self.rules,
                scratch: &mut *scratch,
                arena: &mut *arena,
                out: Out::List(&mut items),
                skeletons: self.skeletons,
                recall: Some(&mut recall),
            };
            resource.write(p)?;
        }
        Some(Some(items))
    }
}

// ---- one resource -------------------------------------------------------------

/// Where a resource's fields are written (each `"name":value`, to be put in
/// name order), a spare buffer for reordering an object's members, and the
/// members of the objects being written.
#[derive(Default)]
struct Scratch {
    s: Vec<u8>,
    t: Vec<u8>,
    spare: Vec<u8>,
    /// The members of the nested objects being written, innermost last.
    members: Vec<Member>,
    /// The resource's flat fields: heads, attributes, relationships (as
    /// written), then in name order (after `merge_groups`).
    fields: Vec<Member>,
    /// Where the groups are merged (kept for the next resource).
    merged: Vec<Member>,
    joined: Vec<Member>,
    /// The fields of the resource's relationships, as written.
    related: Vec<Member>,
}

thread_local! {
    /// The scratch of a thread's last document, kept for its next one:
    /// buffers that grew to a resource's size once need not grow again for
    /// every answer.
    static SPARE_SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

/// Scratch bytes (both texts and the spare) a thread keeps between
/// documents at most: one hostile answer's buffers are freed, not kept.
const MAX_KEPT_SCRATCH_BYTES: usize = 256 * 1024;
/// Members and fields a thread keeps room for at most, likewise.
const MAX_KEPT_SCRATCH_MEMBERS: usize = 4096;

/// The thread's spare scratch, for one document; given back (emptied)
/// when dropped, unless it grew past the limits above.
struct KeptScratch(Scratch);

impl KeptScratch {
    fn take() -> Self {
        Self(SPARE_SCRATCH.try_with(|spare| spare.take()).unwrap_or_default())
    }
}

impl Drop for KeptScratch {
    fn drop(&mut self) {
        let Scratch { s, t, spare, members, fields, merged, joined, related } = &mut self.0;
        if s.capacity() + t.capacity() + spare.capacity() > MAX_KEPT_SCRATCH_BYTES
            || [&*members, &*fields, &*merged, &*joined, &*related].iter().any(|m| m.capacity() > MAX_KEPT_SCRATCH_MEMBERS)
        {
            return;
        }
        for bytes in [&mut *s, &mut *t, &mut *spare] {
            bytes.clear();
        }
        for list in [members, fields, merged, joined, related] {
            list.clear();
        }
        let scratch = std::mem::take(&mut self.0);
        let _ = SPARE_SCRATCH.try_with(|spare| *spare.borrow_mut() = scratch);
    }
}

/// A member of an object, or a field of a resource, written in the
/// scratch: its name's range (in the structured text, between its quotes)
/// and its ranges there, name to value. Its text range is empty when its
/// value is null (null members are left out of the text).
#[derive(Clone)]
struct Member {
    /// The name's first eight bytes as one big-endian word (see `Field`).
    head: u64,
    name: Range<usize>,
    s: Range<usize>,
    t: Range<usize>,
}

impl Scratch {
    /// Names' byte order, as `Field::by_name`.
    #[inline]
    fn by_name(&self, a: &Member, b: &Member) -> std::cmp::Ordering {
        a.head.cmp(&b.head).then_with(|| self.s[a.name.clone()].cmp(&self.s[b.name.clone()]))
    }

    /// The field `name: v`, written; `None` when the name needs escapes.
    fn write_field(&mut self, name: &str, v: &Value) -> Option<Member> {
        self.write_field_of(&[name], false, v)
    }

    /// [`Scratch::write_field`], after the resource's fields.
    fn push_field(&mut self, name: &str, v: &Value) -> Option<()> {
        let field = self.write_field(name, v)?;
        self.fields.push(field);
        Some(())
    }

    /// [`Scratch::write_field`] of the name made of `parts` (snake_case with `snake`).
    fn write_field_of(&mut self, parts: &[&str], snake: bool, v: &Value) -> Option<Member> {
        let (s0, t0) = (self.s.len(), self.t.len());
        let name = write_name_of(self, parts, snake)?;
        self.s.push(b':');
        self.t.push(b':');
        write_text_and_value(&mut self.t, &mut self.s, v);
        Some(self.member(s0, t0, name, Wrote { null: v.is_null() }))
    }

    /// The member written from `s0`/`t0` (name, colon, value); a null one
    /// is taken out of the text.
    fn member(&mut self, s0: usize, t0: usize, name: Range<usize>, value: Wrote) -> Member {
        let t = if value.null {
            self.t.truncate(t0);
            t0..t0
        } else {
            t0..self.t.len()
        };
        Member { head: head_of(&self.s[name.clone()]), name, s: s0..self.s.len(), t }
    }

    /// The field `name` with the value `field` has, copied (both texts).
    fn copy_value_as(&mut self, field: &Member, name: &str) -> Option<Member> {
        let (s0, t0) = (self.s.len(), self.t.len());
        let copy = write_name(self, name, false)?;
        self.s.push(b':');
        self.t.push(b':');
        self.s.extend_from_within(field.name.end + 2..field.s.end);
        // The text's range is empty for a null value; else it starts with `\"name\":`.
        let null = field.t.is_empty();
        if !null {
            self.t.extend_from_within(field.t.start + field.name.len() + 5..field.t.end);
        }
        Some(self.member(s0, t0, copy, Wrote { null }))
    }

    /// A field's value as written (after its name, quotes and colon).
    fn value_of(&self, field: &Member) -> &[u8] {
        &self.s[field.name.end + 2..field.s.end]
    }

    /// The index of the field `name` (the fields in name order).
    fn find(&self, name: &str) -> Result<usize, usize> {
        let (head, name) = (head_of(name.as_bytes()), name.as_bytes());
        self.fields.binary_search_by(|field| field.head.cmp(&head).then_with(|| self.s[field.name.clone()].cmp(name)))
    }

    /// The written value of the field `name`.
    fn written(&self, name: &str) -> Option<&[u8]> {
        self.find(name).ok().map(|i| self.value_of(&self.fields[i]))
    }

    /// The string the field `name` holds, decoded; `None` for anything else.
    fn string(&self, name: &str) -> Option<String> {
        let bytes = self.written(name)?;
        let inside = bytes.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
        // Written as serde_json writes it: without a backslash, it is the string.
        match inside.contains(&b'\\') {
            false => std::str::from_utf8(inside).ok().map(str::to_owned),
            true => serde_json::from_slice(bytes).ok(),
        }
    }

    /// The fields in name order, of two with one name the one of the
    /// earlier group (heads before attributes before relationships, as
    /// `in_name_order` keeps them); `None` when one group has a name twice.
    fn merge_groups(&mut self, heads: usize, attributes_end: usize) -> Option<()> {
        let mut fields = std::mem::take(&mut self.fields);
        let (head, rest) = fields.split_at_mut(heads);
        let (attributes, relationships) = rest.split_at_mut(attributes_end - heads);
        for group in [&mut *head, &mut *attributes, &mut *relationships] {
            if !group.windows(2).all(|pair| self.by_name(&pair[0], &pair[1]).is_lt()) {
                group.sort_unstable_by(|a, b| self.by_name(a, b));
                if group.windows(2).any(|pair| self.by_name(&pair[0], &pair[1]).is_eq()) {
                    return None;
                }
            }
        }
        // Attributes before relationships, then the resource's own before both.
        let (mut later, mut all) = (std::mem::take(&mut self.merged), std::mem::take(&mut self.joined));
        self.merge_two(attributes, relationships, &mut later);
        self.merge_two(head, &later, &mut all);
        (self.fields, self.merged, self.joined) = (all, later, fields);
        Some(())
    }

    /// `first` and `second` (each in name order) into `out` in name order,
    /// of two fields with one name the one of `first`.
    fn merge_two(&self, first: &[Member], second: &[Member], out: &mut Vec<Member>) {
        out.clear();
        out.reserve(first.len() + second.len());
        let (mut i, mut j) = (0, 0);
        while let (Some(a), Some(b)) = (first.get(i), second.get(j)) {
            match self.by_name(a, b) {
                std::cmp::Ordering::Less => {
                    out.push(a.clone());
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    out.push(b.clone());
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    out.push(a.clone());
                    (i, j) = (i + 1, j + 1);
                }
            }
        }
        out.extend_from_slice(&first[i..]);
        out.extend_from_slice(&second[j..]);
    }
}

/// One resource, flattened as `ResourceSeed` flattens it, with the output
/// rules applied, written to `out`; anything but an object is unusual.
struct ResourceWriter<'a, 'de> {
    cx: &'a Context<'a, 'de>,
    rules: &'a OutputRules,
    scratch: &'a mut Scratch,
    arena: &'a mut Arena,
    out: Out<'a>,
    skeletons: SkeletonsOf<'a, Cow<'de, str>>,
    /// A list's: what its previous resource wrote.
    recall: Option<&'a mut Recall<'de>>,
}

/// Where a written resource goes: after a list's others, or alone.
enum Out<'a> {
    List(&'a mut Items),
    Resource(&'a mut Option<Resource>),
}

impl<'de> ResourceWriter<'_, 'de> {
    /// Reads the resource (an object: anything else is unusual) and writes it.
    fn write(self, p: &mut Scanner<'de>) -> Option<()> {
        let sc = self.scratch;
        let mut recall = self.recall;
        if let Some(recall) = recall.as_deref_mut() {
            recall.next_resource(sc);
        }
        sc.s.clear();
        sc.t.clear();
        sc.related.clear();
        let (mut id, mut type_, mut attributes, mut relationships, mut links) = (None, None, None, None, None);
        p.object()?;
        let mut first = true;
        while let Some(key) = p.key(&mut first)? {
            match &*key.text()? {
                "id" => set_once(&mut id, p.value()?)?,
                "type" => set_once(&mut type_, p.value()?)?,
                "attributes" => set_once(&mut attributes, write_attributes(p, sc, recall.as_deref_mut())?)?,
                "relationships" => set_once(&mut relationships, write_relationships(p, sc, self.skeletons.is_some())?)?,
                "links" => set_once(&mut links, read_links(p)?)?,
                _ => _ = p.skip()?,
            }
        }
        if let Some(skeletons) = self.skeletons {
            push_skeleton(skeletons, &type_, &id, relationships.flatten().unwrap_or_default());
        }
        // As `ResourceSeed`: links' fields, type, id, attributes,
        // relationships; each group put in name order, then merged.
        sc.fields.clear();
        let mut written = Some(());
        if let Some(Links { self_html, inherited_from }) = links {
            link_fields_of(self_html.as_deref(), inherited_from.as_deref(), self.cx.base, |k, v| {
                written = written.and_then(|()| sc.push_field(&k, &v));
            });
        }
        written?;
        for (name, value) in [("type", &type_), ("id", &id)] {
            if let Some(value) = value {
                sc.push_field(name, value)?;
            }
        }
        let heads = sc.fields.len();
        let kind = type_.as_ref().and_then(Value::as_str);
        let attributes = attributes.flatten().unwrap_or_default();
        match recall.as_deref_mut() {
            Some(recall) => recall.keep_attributes(kind, self.cx.grants, attributes, &mut sc.fields),
            None => sc.fields.extend(attributes.into_iter().filter(|(name, _)| self.cx.grants.keeps(kind, name)).map(|(_, field)| field)),
        }
        let attributes_end = sc.fields.len();
        sc.fields.extend_from_slice(&sc.related);
        match recall {
            Some(recall) => recall.put_in_name_order(sc, heads, attributes_end)?,
            None => sc.merge_groups(heads, attributes_end)?,
        }
        apply_output_rules(sc, self.rules)?;
        let organization = if self.rules.record_organizations { organization_of(sc) } else { None };
        match self.out {
            Out::List(items) => items.push(self.arena, sc, organization),
            Out::Resource(resource) => *resource = Some(Resource::write(self.arena, sc, organization)?),
        }
        Some(())
    }
}

impl Items {
    /// Appends the resource of the scratch's fields (in name order).
    fn push(&mut self, arena: &mut Arena, sc: &Scratch, organization: Option<String>) {
        arena.s.push(b'{');
        arena.t.push(b'{');
        let Span { s, t } = arena.append(sc, &sc.fields);
        arena.s.push(b'}');
        arena.t.push(b'}');
        self.spans.push(Item { s: s.start - 1..s.end + 1, t: t.start - 1..t.end + 1, organization });
    }
}

impl Resource {
    /// The resource of the scratch's fields (in name order), split where
    /// `included` goes; `None` when it has a field the tree's output rules
    /// or allow-list would read as a list (`included`, `results`).
    fn write(arena: &mut Arena, sc: &Scratch, organization: Option<String>) -> Option<Self> {
        sc.find("results").is_err().then_some(())?;
        let split = sc.find("included").err()?;
        let before = arena.append(sc, &sc.fields[..split]);
        let after = arena.append(sc, &sc.fields[split..]);
        Some(Self { before, after, organization })
    }
}

impl Arena {
    /// `fields` of the scratch, comma-separated (null ones left out of the text).
    fn append(&mut self, sc: &Scratch, fields: &[Member]) -> Span {
        let Self { s, t } = self;
        let (s0, t0) = (s.len(), t.len());
        s.reserve(sc.s.len() + fields.len() + 2);
        t.reserve(sc.t.len() + fields.len() + 2);
        for field in fields {
            append_run(s, s0, &sc.s[field.s.clone()]);
            append_run(t, t0, &sc.t[field.t.clone()]);
        }
        Span { s: s0..s.len(), t: t0..t.len() }
    }
}

/// What `link_fields` reads of a resource's `links`: its `self-html` and
/// `inherited-from`, when strings.
#[derive(Default)]
struct Links<'de> {
    self_html: Option<Cow<'de, str>>,
    inherited_from: Option<Cow<'de, str>>,
}

/// A resource's `links` (anything but an object has none of them).
fn read_links<'de>(p: &mut Scanner<'de>) -> Option<Links<'de>> {
    let mut links = Links::default();
    if p.peek()? != Next::Object {
        p.skip()?;
        return Some(links);
    }
    let (mut self_html, mut inherited_from) = (None, None);
    p.object()?;
    let mut first = true;
    while let Some(key) = p.key(&mut first)? {
        let slot = match &*key.text()? {
            "self-html" => &mut self_html,
            "inherited-from" => &mut inherited_from,
            _ => {
                p.skip()?;
                continue;
            }
        };
        let link = if p.peek()? == Next::String { Some(p.string()?.text()?) } else { p.skip().map(|_| None)? };
        set_once(slot, link)?;
    }
    (links.self_html, links.inherited_from) = (self_html.flatten(), inherited_from.flatten());
    Some(links)
}

/// `execute::postprocess` on a resource's fields (in name order).
fn apply_output_rules(sc: &mut Scratch, rules: &OutputRules) -> Option<()> {
    enum Kind {
        Variable,
        Task,
        Output,
        Other,
    }
    // Values are written from what was parsed, escaped as serde_json
    // escapes: a string is equal to another exactly when its bytes are.
    let kind = match sc.written("type") {
        Some(br#""vars""#) => Kind::Variable,
        Some(br#""tasks""#) => Kind::Task,
        Some(br#""state-version-outputs""# | br#""workspace-outputs""#) => Kind::Output,
        _ => Kind::Other,
    };
    let sensitive = sc.written("sensitive") == Some(b"true");
    match kind {
        // A sensitive variable's value is write-only.
        Kind::Variable if sensitive => {
            if let Ok(i) = sc.find("value") {
                sc.fields[i] = sc.write_field("value", &Value::Null)?;
            }
        }
        // So is a run task's HMAC key.
        Kind::Task => {
            if let Ok(i) = sc.find("hmac_key") {
                sc.fields.remove(i);
            }
        }
        Kind::Output if sensitive && !rules.reveal_sensitive_outputs => {
            let marker = sc.write_field("value", &Value::String(crate::execute::SENSITIVE_MARKER.to_owned()))?;
            match sc.find("value") {
                Ok(i) => sc.fields[i] = marker,
                Err(i) => sc.fields.insert(i, marker),
            }
        }
        _ => {}
    }
    Some(())
}

/// `execute::org_of` on a resource's fields (in name order).
fn organization_of(sc: &Scratch) -> Option<String> {
    if sc.written("type") == Some(br#""organizations""#) {
        return sc.string("id");
    }
    sc.string("organization_name")
}

/// `attributes`: each attribute's name as sent, and its field (name
/// snake_case) written, its value's keys snake_case (but the verbatim
/// attributes'); `None` inside when not an object.
fn write_attributes<'de>(p: &mut Scanner<'de>, sc: &mut Scratch, mut recall: Option<&mut Recall<'de>>) -> Option<WrittenAttributes<'de>> {
    if p.peek()? != Next::Object {
        p.skip()?;
        return Some(None);
    }
    p.object()?;
    let mut out = Vec::with_capacity(48);
    let mut first = true;
    while let Some(key) = p.key(&mut first)? {
        let field = match recall.as_deref_mut() {
            Some(recall) if !key.escaped() && out.len() < MAX_RECALLED => recall.attribute(p, sc, out.len(), key.raw())?,
            _ => {
                if let Some(recall) = recall.as_deref_mut() {
                    recall.order.alike = false;
                }
                let (s0, t0) = (sc.s.len(), sc.t.len());
                let key = key.text()?;
                let name = write_attribute_name(sc, &key)?;
                let value = write_value(p, sc, snake_value(&key), 0)?;
                sc.member(s0, t0, name, value)
            }
        };
        out.push((key.text()?, field));
    }
    Some(Some(out))
}

type WrittenAttributes<'de> = Option<Vec<(Cow<'de, str>, Member)>>;

/// An attribute's name, written snake_case with its colon; `None` when it
/// needs escapes (it might not sort as the tree sorts it).
fn write_attribute_name(sc: &mut Scratch, key: &str) -> Option<Range<usize>> {
    let name = write_name(sc, key, true)?;
    sc.s.push(b':');
    sc.t.push(b':');
    Some(name)
}

/// Whether the value of attribute `key` has its keys made snake_case.
fn snake_value(key: &str) -> bool {
    !VERBATIM_ATTRIBUTES.contains(&key)
}

/// What a list's previous resource wrote for each attribute, by place: a
/// page's resources are mostly alike (the same attributes in the same
/// order, many with the same values: nulls, flags, `permissions`), and an
/// attribute sent exactly as the one in its place before is written as it
/// was, its field's bytes copied, not parsed and written again; whether a
/// resource keeps it (the grants) is decided once too. Only its text is
/// compared (what is written of it depends on nothing else, so a place
/// that differs only costs the comparison), and what is recalled is the
/// previous resource's first [`MAX_RECALLED`] attributes alone: a hostile
/// answer cannot make it grow. (Relationships are not recalled: their
/// values are small, and reading each one's text to compare it cost as
/// much as writing it.)
#[derive(Default)]
struct Recall<'de> {
    /// The previous resource's attributes, and this one's so far.
    previous: Vec<Recalled<'de>>,
    current: Vec<Recalled<'de>>,
    /// The previous resource's scratch texts, where `previous` points.
    s: Vec<u8>,
    t: Vec<u8>,
    /// Which attributes the previous resource kept (`Grants::keeps`), by
    /// place, and its type; this one's.
    kept_before: Vec<(&'de str, bool)>,
    kept_now: Vec<(&'de str, bool)>,
    kind: Option<String>,
    order: Order,
}

/// The name order of a list's previous resource's fields, for the next
/// one: resources alike have fields of the same names, in the same order
/// before merging, and so the same order after it, which is then taken
/// rather than found again (sorting the attributes, merging the groups).
#[derive(Default)]
struct Order {
    /// For each field in name order, its place before merging, and how
    /// many fields there were; `None` until a resource was merged.
    places: Option<(Vec<usize>, usize)>,
    /// The previous resource's fields but its attributes (heads, then
    /// relationships: in the previous scratch), its heads and attributes
    /// kept; this one's.
    before: Fields,
    now: Fields,
    /// This resource's attributes so far have the keys of the previous
    /// one's, place by place (and so the same fields, whose names are made
    /// of the keys alone).
    alike: bool,
}

/// What [`Order`] compares of two resources.
#[derive(Default)]
struct Fields {
    others: Vec<Member>,
    heads: usize,
    attributes: usize,
}

/// Attributes recalled of a resource at most (by place, the first ones):
/// what a resource with more has after those is written as usual.
const MAX_RECALLED: usize = 1024;

/// An attribute as sent (its key and its value's text) and its field as written.
struct Recalled<'de> {
    key: &'de str,
    raw: &'de str,
    field: Member,
}

impl<'de> Recall<'de> {
    /// Before the next resource: what the scratch holds is the previous resource's.
    fn next_resource(&mut self, sc: &mut Scratch) {
        std::mem::swap(&mut self.s, &mut sc.s);
        std::mem::swap(&mut self.t, &mut sc.t);
        std::mem::swap(&mut self.previous, &mut self.current);
        self.current.clear();
        std::mem::swap(&mut self.order.before, &mut self.order.now);
        self.order.alike = true;
    }

    /// The scratch's fields (heads, attributes up to `attributes_end`,
    /// relationships) put in name order as `Scratch::merge_groups` puts
    /// them: in the previous resource's order when its fields had the same
    /// names, place by place; else merged, and the order kept.
    fn put_in_name_order(&mut self, sc: &mut Scratch, heads: usize, attributes_end: usize) -> Option<()> {
        let Order { places, before, now, alike } = &mut self.order;
        now.others.clear();
        now.others.extend_from_slice(&sc.fields[..heads]);
        now.others.extend_from_slice(&sc.fields[attributes_end..]);
        (now.heads, now.attributes) = (heads, attributes_end - heads);
        let same_names = |a: &[Member], b: &[Member]| {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| a.head == b.head && sc.s[a.name.clone()] == self.s[b.name.clone()])
        };
        let alike = *alike
            && self.current.len() == self.previous.len()
            && (now.heads, now.attributes) == (before.heads, before.attributes)
            && same_names(&now.others, &before.others);
        if let Some((places, _)) = places.as_ref().filter(|(_, count)| alike && *count == sc.fields.len()) {
            // Each place is below `count`, the fields' number then and now.
            sc.merged.clear();
            sc.merged.extend(places.iter().map(|&i| sc.fields[i].clone()));
            std::mem::swap(&mut sc.fields, &mut sc.merged);
            return Some(());
        }
        // Each field is written at its own place in the scratch: where it starts names it.
        let mut starts: Vec<(usize, usize)> = sc.fields.iter().enumerate().map(|(i, f)| (f.s.start, i)).collect();
        starts.sort_unstable();
        sc.merge_groups(heads, attributes_end)?;
        let place = |field: &Member| starts.binary_search_by_key(&field.s.start, |&(start, _)| start).map(|k| starts[k].1);
        *places = sc.fields.iter().map(place).collect::<Result<_, _>>().ok().map(|places| (places, starts.len()));
        Some(())
    }

    /// Attribute `key` (the `place`-th), read and written: its field
    /// copied when its value's text is the one in its place before, else
    /// written as it is read.
    fn attribute(&mut self, p: &mut Scanner<'de>, sc: &mut Scratch, place: usize, key: &'de str) -> Option<Member> {
        let (s0, t0) = (sc.s.len(), sc.t.len());
        let before = self.previous.get(place).filter(|before| before.key == key);
        self.order.alike &= before.is_some();
        let (field, raw) = match before.and_then(|before| Some((before, p.skip_text(before.raw)?))) {
            Some((before, raw)) => {
                let was = &before.field;
                sc.s.extend_from_slice(&self.s[was.s.clone()]);
                sc.t.extend_from_slice(&self.t[was.t.clone()]);
                let name = s0 + (was.name.start - was.s.start)..s0 + (was.name.end - was.s.start);
                (Member { head: was.head, name, s: s0..sc.s.len(), t: t0..sc.t.len() }, raw)
            }
            None => {
                let name = write_attribute_name(sc, key)?;
                let start = p.value_start()?;
                let value = write_value(p, sc, snake_value(key), 0)?;
                (sc.member(s0, t0, name, value), p.text_since(start))
            }
        };
        self.current.push(Recalled { key, raw, field: field.clone() });
        Some(field)
    }

    /// The fields of the `attributes` a resource of `kind` keeps, onto
    /// `fields`: decided as the one in its place before when the name and
    /// the type are the same (the grants are the document's).
    fn keep_attributes(&mut self, kind: Option<&str>, grants: &Grants, attributes: Vec<(Cow<'de, str>, Member)>, fields: &mut Vec<Member>) {
        let same_kind = self.kind.as_deref() == kind;
        if !same_kind {
            self.kind = kind.map(str::to_owned);
            self.order.alike = false;
        }
        std::mem::swap(&mut self.kept_before, &mut self.kept_now);
        self.kept_now.clear();
        for (place, (name, field)) in attributes.into_iter().enumerate() {
            let before = self.kept_before.get(place).filter(|(was, _)| same_kind && *was == name);
            let keep = before.map_or_else(|| grants.keeps(kind, &name), |(_, keep)| *keep);
            if let Cow::Borrowed(name) = name
                && place < MAX_RECALLED
            {
                self.kept_now.push((name, keep));
            }
            if keep {
                fields.push(field);
            }
        }
    }
}

/// `relationships`: each one's fields written (to the scratch's
/// `related`), named and filled as `relationship_fields` names and fills
/// them, and (with `keep`) each
/// one's name and `(type, id)` pairs; `None` inside when not an object.
/// A repeated name is unusual.
fn write_relationships<'de>(p: &mut Scanner<'de>, sc: &mut Scratch, keep: bool) -> Option<WrittenRelationships<'de>> {
    if p.peek()? != Next::Object {
        p.skip()?;
        return Some(None);
    }
    let (mut fields, mut kept, mut names) = (std::mem::take(&mut sc.related), Vec::new(), Vec::with_capacity(24));
    p.object()?;
    let mut first = true;
    while let Some(name) = p.key(&mut first)? {
        let name = name.text()?;
        let mut pairs = Vec::new();
        // What owners are learnt from: the organization, and the ids
        // related (a relationship with none teaches nothing).
        if write_relationship(p, sc, &name, keep.then_some(&mut pairs), &mut fields)?
            && keep
            && (!pairs.is_empty() || name == "organization")
        {
            kept.push((name.clone(), pairs));
        }
        // Every name, those without data too: of a repeated one the tree keeps the last.
        names.push(name);
    }
    // Names in order (as HCP Terraform sends them) differ; others are sorted to see.
    if !names.windows(2).all(|pair| pair[0] < pair[1]) {
        names.sort_unstable();
        if names.windows(2).any(|pair| pair[0] == pair[1]) {
            return None;
        }
    }
    sc.related = fields;
    Some(Some(kept))
}

type WrittenRelationships<'de> = Option<Relations<Cow<'de, str>>>;

/// The `(type, id)` of a relationship's identifiers, for its skeleton.
type Pairs<'de> = Vec<(Cow<'de, str>, Cow<'de, str>)>;

/// One relationship: the fields of its `data` (as `relationship_fields`
/// makes them of `Linkage::of`); whether it has `data` (one that is not an
/// object has none). The `(type, id)` of its identifiers go to `pairs`.
fn write_relationship<'de>(
    p: &mut Scanner<'de>,
    sc: &mut Scratch,
    name: &str,
    mut pairs: Option<&mut Pairs<'de>>,
    fields: &mut Vec<Member>,
) -> Option<bool> {
    if p.peek()? != Next::Object {
        p.skip()?;
        return Some(false);
    }
    let mut data = false;
    p.object()?;
    let mut first = true;
    while let Some(key) = p.key(&mut first)? {
        if &*key.text()? != "data" {
            p.skip()?;
            continue;
        }
        if data {
            return None;
        }
        data = true;
        write_linkage(p, sc, name, pairs.as_deref_mut(), fields)?;
    }
    Some(data)
}

/// A relationship's `data`, written: `{singular}_ids` of a list (the ids
/// of its identifiers, in order), `{name}_id` of one (its id, null
/// without), null of anything else; and `organization_name` of the
/// organization's.
fn write_linkage<'de>(
    p: &mut Scanner<'de>,
    sc: &mut Scratch,
    name: &str,
    mut pairs: Option<&mut Pairs<'de>>,
    fields: &mut Vec<Member>,
) -> Option<()> {
    let (s0, t0) = (sc.s.len(), sc.t.len());
    match p.peek()? {
        Next::Array => {
            let (stem, y) = singular_parts(name);
            let field = write_name_of(sc, &[stem, y, "_ids"], true)?;
            sc.s.extend_from_slice(b":[");
            sc.t.extend_from_slice(b":[");
            p.array()?;
            let (mut first, mut written) = (true, false);
            while p.item(&mut first)? {
                if p.peek()? != Next::Object {
                    p.skip()?;
                    continue;
                }
                let (s1, t1) = (sc.s.len(), sc.t.len());
                if written {
                    sc.s.push(b',');
                    sc.t.push(b',');
                }
                match write_identifier(p, sc, pairs.as_deref_mut())? {
                    Some(_) => written = true,
                    None => {
                        sc.s.truncate(s1);
                        sc.t.truncate(t1);
                    }
                }
            }
            sc.s.push(b']');
            sc.t.push(b']');
            fields.push(sc.member(s0, t0, field, Wrote { null: false }));
        }
        Next::Object => {
            let field = write_name_of(sc, &[name, "_id"], true)?;
            sc.s.push(b':');
            sc.t.push(b':');
            let value = match write_identifier(p, sc, pairs)? {
                Some(value) => value,
                None => literal(sc, "null"),
            };
            let id = sc.member(s0, t0, field, value);
            if name == "organization" {
                fields.push(sc.copy_value_as(&id, "organization_name")?);
            }
            fields.push(id);
        }
        Next::String | Next::Scalar => {
            p.skip()?;
            let field = write_name_of(sc, &[name, "_id"], true)?;
            sc.s.push(b':');
            sc.t.push(b':');
            let value = literal(sc, "null");
            fields.push(sc.member(s0, t0, field, value));
        }
    }
    Some(())
}

/// A resource identifier (an object): its `id` written where the scratch
/// is (`None` without one); its `(type, id)` goes to `pairs` when both
/// are strings (as `execute::owners` reads them of a tree).
fn write_identifier<'de>(p: &mut Scanner<'de>, sc: &mut Scratch, pairs: Option<&mut Pairs<'de>>) -> Option<Option<Wrote>> {
    let (mut id, mut id_text, mut type_) = (None, None, None);
    p.object()?;
    let mut first = true;
    while let Some(key) = p.key(&mut first)? {
        match &*key.text()? {
            "id" => {
                if p.peek()? == Next::String {
                    let s = p.string()?;
                    id_text = Some(s);
                    set_once(&mut id, write_str(sc, s)?)?;
                } else {
                    set_once(&mut id, write_value(p, sc, false, 0)?)?;
                }
            }
            "type" => set_once(&mut type_, if p.peek()? == Next::String { Some(p.string()?) } else { p.skip().map(|_| None)? })?,
            _ => _ = p.skip()?,
        }
    }
    if let (Some(pairs), Some(Some(t)), Some(i)) = (pairs, type_, id_text) {
        pairs.push((t.text()?, i.text()?));
    }
    Some(id)
}

/// What writing a value found: whether it was null.
struct Wrote {
    null: bool,
}

/// Objects nested deeper than this whose members come out of name order
/// are unusual: reordering copies an object once per level it is nested
/// in, and a hostile upstream must not make that quadratic.
const MAX_REORDERED_DEPTH: u8 = 8;

/// Any value, written; with `snake`, every object key snake_case (as
/// `SnakeValue`), else as sent (as a tree keeps it). Members come in name
/// order either way, as a tree's objects do.
fn write_value(p: &mut Scanner<'_>, sc: &mut Scratch, snake: bool, depth: u8) -> Option<Wrote> {
    match p.peek()? {
        Next::String => write_str(sc, p.string()?),
        Next::Object => write_object(p, sc, snake, depth),
        Next::Array => {
            p.array()?;
            sc.s.push(b'[');
            sc.t.push(b'[');
            let (mut first, mut fresh) = (true, true);
            while p.item(&mut first)? {
                if !std::mem::take(&mut fresh) {
                    sc.s.push(b',');
                    sc.t.push(b',');
                }
                write_value(p, sc, snake, depth.saturating_add(1))?;
            }
            sc.s.push(b']');
            sc.t.push(b']');
            Some(Wrote { null: false })
        }
        Next::Scalar => match p.literal() {
            Some(word) => Some(literal(sc, word)),
            None => write_number(sc, p.number()?),
        },
    }
}

/// A literal (`null`, `true`, `false`), written.
fn literal(sc: &mut Scratch, word: &str) -> Wrote {
    sc.s.extend_from_slice(word.as_bytes());
    sc.t.extend_from_slice(word.as_bytes());
    Wrote { null: word == "null" }
}

/// A number, as serde_json writes what it reads of it (nothing in a
/// number changes in the text).
fn write_number(sc: &mut Scratch, number: &str) -> Option<Wrote> {
    if is_plain_integer(number) {
        return Some(literal(sc, number));
    }
    let value: Value = serde_json::from_str(number).ok()?;
    write_text_and_value(&mut sc.t, &mut sc.s, &value);
    Some(Wrote { null: value.is_null() })
}

/// A string, written (one without escapes as it is: it has nothing to escape).
fn write_str(sc: &mut Scratch, s: Str<'_>) -> Option<Wrote> {
    if s.escaped() {
        write_string_twice(&mut sc.t, &mut sc.s, &s.text()?);
    } else {
        write_plain_string_twice(&mut sc.t, &mut sc.s, s.raw());
    }
    Some(Wrote { null: false })
}

/// An object, its members written where they come (name, colon, value),
/// and their ranges kept (on the scratch's stack of members): in name
/// order already (the usual case), the object is done; else its members
/// are copied in name order.
fn write_object(p: &mut Scanner<'_>, sc: &mut Scratch, snake: bool, depth: u8) -> Option<Wrote> {
    let (s0, t0) = (sc.s.len(), sc.t.len());
    sc.s.push(b'{');
    sc.t.push(b'{');
    let base = sc.members.len();
    let mut in_text = 0usize;
    p.object()?;
    let mut first = true;
    while let Some(key) = p.key(&mut first)? {
        if sc.members.len() > base {
            sc.s.push(b',');
        }
        let before_text = sc.t.len();
        if in_text > 0 {
            sc.t.push(b',');
        }
        let (ms, mt) = (sc.s.len(), sc.t.len());
        let name = write_name(sc, &key.text()?, snake)?;
        sc.s.push(b':');
        sc.t.push(b':');
        let value = write_value(p, sc, snake, depth.saturating_add(1))?;
        let text = if value.null {
            // Null members are left out of the text.
            sc.t.truncate(before_text);
            before_text..before_text
        } else {
            in_text += 1;
            mt..sc.t.len()
        };
        let head = head_of(&sc.s[name.clone()]);
        sc.members.push(Member { head, name, s: ms..sc.s.len(), t: text });
    }
    sc.s.push(b'}');
    sc.t.push(b'}');
    let Scratch { s, t, spare, members, .. } = sc;
    let ours = &mut members[base..];
    let by_name = |a: &Member, b: &Member| a.head.cmp(&b.head).then_with(|| s[a.name.clone()].cmp(&s[b.name.clone()]));
    if !ours.windows(2).all(|pair| by_name(&pair[0], &pair[1]).is_lt()) {
        ours.sort_unstable_by(by_name);
        // Repeated, or two keys with one snake_case name: the tree keeps another.
        if ours.windows(2).any(|pair| by_name(&pair[0], &pair[1]).is_eq()) || depth > MAX_REORDERED_DEPTH {
            return None;
        }
        reorder(s, t, spare, s0, t0, ours);
    }
    members.truncate(base);
    Some(Wrote { null: false })
}

/// Writes a member's name (snake_case with `snake`) to both texts; its range
/// in the structured text, or `None` when it needed escapes (ordered by
/// what is written, such names might not sort as the tree sorts them).
fn write_name(sc: &mut Scratch, key: &str, snake: bool) -> Option<Range<usize>> {
    write_name_of(sc, &[key], snake)
}

/// [`write_name`] of the name made of `parts`.
#[inline(always)]
fn write_name_of(sc: &mut Scratch, parts: &[&str], snake: bool) -> Option<Range<usize>> {
    let Scratch { s, t, .. } = sc;
    s.reserve(parts.iter().map(|part| part.len()).sum::<usize>() + 2);
    s.push(b'"');
    let start = s.len();
    for part in parts {
        s.extend_from_slice(part.as_bytes());
    }
    // In one pass: whether it is an identifier (the usual name, nothing to
    // escape, snake_case made by turning `-` into `_`), and that turn made.
    let identifier = identifier_made_snake(&mut s[start..], snake);
    if !identifier {
        // Only an identifier is made snake_case; others stay as they are, and
        // a name that needs escapes might not sort as the tree sorts it.
        if !parts.iter().all(|part| needs_no_escape(part.as_bytes())) {
            s.truncate(start - 1);
            return None;
        }
        s.truncate(start);
        for part in parts {
            s.extend_from_slice(part.as_bytes());
        }
    }
    let end = s.len();
    s.push(b'"');
    t.reserve(end - start + 4);
    t.extend_from_slice(br#"\""#);
    t.extend_from_slice(&s[start..end]);
    t.extend_from_slice(br#"\""#);
    Some(start..end)
}

/// Whether `name` is an identifier (ASCII letters, digits, `-` and `_`,
/// not empty), each `-` turned into `_` with `snake`: eight bytes at a
/// time (a name is checked and converted for every field of every answer).
fn identifier_made_snake(name: &mut [u8], snake: bool) -> bool {
    let mut identifier = !name.is_empty();
    let mut words = name.chunks_exact_mut(8);
    for word in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        let x = u64::from_le_bytes(bytes);
        let dashes = bytes_equal(x, b'-');
        identifier &=
            x & HIGH == 0 && (in_range(x, b'0', b'9') | in_range(x | (ONES * 0x20), b'a', b'z') | dashes | bytes_equal(x, b'_')) == HIGH;
        if snake {
            // `-` ^ `_` = 0x72, in exactly the bytes that are `-`.
            word.copy_from_slice(&(x ^ ((dashes >> 7) * 0x72)).to_le_bytes());
        }
    }
    for b in words.into_remainder() {
        identifier &= is_name_byte(*b);
        if snake && *b == b'-' {
            *b = b'_';
        }
    }
    identifier
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = ONES * 0x80;

/// The high bit of each byte of `x` that is `c`, and no other bit.
fn bytes_equal(x: u64, c: u8) -> u64 {
    let y = x ^ (ONES * u64::from(c));
    !(((y & !HIGH) + !HIGH) | y) & HIGH
}

/// The high bit of each byte of `x` within `lo..=hi`, for bytes below 0x80
/// and `lo` above 0 (no byte borrows from the next).
fn in_range(x: u64, lo: u8, hi: u8) -> u64 {
    let at_least_lo = (x | HIGH) - ONES * u64::from(lo);
    let above_hi = (x | HIGH) - ONES * (u64::from(hi) + 1);
    at_least_lo & !above_hi & HIGH
}

/// Rewrites the object written from `s0`/`t0` with `members` (sorted) in
/// their order.
fn reorder(s: &mut Vec<u8>, t: &mut Vec<u8>, spare: &mut Vec<u8>, s0: usize, t0: usize, members: &[Member]) {
    for (out, start, text) in [(s, s0, false), (t, t0, true)] {
        spare.clear();
        spare.push(b'{');
        let mut first = true;
        for member in members {
            let range = if text { member.t.clone() } else { member.s.clone() };
            if text && range.is_empty() {
                continue;
            }
            if !first {
                spare.push(b',');
            }
            first = false;
            spare.extend_from_slice(&out[range]);
        }
        spare.push(b'}');
        out.truncate(start);
        out.extend_from_slice(spare);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_keeps_a_small_scratch_and_frees_a_large_one() {
        let rules = OutputRules { reveal_sensitive_outputs: false, record_organizations: false };
        let write = |text: &str| flatten_document(text.as_bytes(), None, None, None, &Grants::NONE, &rules, false).map(|(w, _)| w.finish());
        let kept = || SPARE_SCRATCH.with(|spare| spare.borrow().s.capacity());
        let small = r#"{"data":{"type":"runs","id":"run-1","attributes":{"status":"applied","message":"m"}}}"#;
        assert!(write(small).is_some());
        let room = kept();
        assert!(room > 0, "the scratch is kept");
        assert!(write(small).is_some());
        assert_eq!(kept(), room, "and used again, not grown");
        // A hostile upstream's huge resource: its buffers are not kept.
        let huge = format!(r#"{{"data":{{"type":"runs","id":"run-1","attributes":{{"message":"{}"}}}}}}"#, "x".repeat(1 << 20));
        assert!(write(&huge).is_some());
        assert_eq!(kept(), 0);
        // A document refused half-way gives its scratch back too.
        assert!(write(r#"{"data":{"id":"a","attributes":{"x":1},"id":"b"}}"#).is_none());
        assert!(kept() > 0);
    }

    /// The skeletons written with an answer teach the owners the whole
    /// document teaches (ids escaped or not, borrowed or decoded).
    #[test]
    fn written_skeletons_teach_the_same_owners_as_the_tree() {
        use crate::execute::owners::{owners_in, owners_of};
        let rules = OutputRules { reveal_sensitive_outputs: false, record_organizations: true };
        let page = include_str!("../../benches/fixtures/workspaces-page.json");
        let escaped =
            page.replace(r#""id":"ws-"#, r#""id":"w\u0073-"#).replace(r#""type":"organizations""#, r#""type":"organization\u0073""#);
        let mut documents = crate::test_samples::recorded_documents();
        documents.push(("escaped page".into(), escaped.into_bytes()));
        let mut learned = 0;
        for (name, bytes) in &documents {
            let Some((_, skeletons)) = flatten_document(bytes, None, None, None, &Grants::NONE, &rules, true) else { continue };
            let tree = crate::answer_json::parse(bytes).expect("parsed");
            for scope in [None, Some("scope-org")] {
                assert_eq!(owners_of(&skeletons, scope), owners_in(&tree, scope), "{name}");
            }
            learned += usize::from(!owners_in(&tree, None).is_empty());
        }
        assert!(learned > 20, "{learned} documents teach owners");
    }

    #[test]
    fn names_are_checked_and_made_snake_case_as_one_byte_at_a_time_would() {
        let one_at_a_time = |name: &[u8], snake: bool| {
            let identifier = !name.is_empty() && name.iter().all(|&b| is_name_byte(b));
            let made: Vec<u8> = name.iter().map(|&b| if snake && b == b'-' { b'_' } else { b }).collect();
            (identifier, made)
        };
        let mut names: Vec<Vec<u8>> = ["", "a", "plan-only", "can-queue-destroy-plan", "A-Z_09-az", "x.y", "a b", "é-é", "provider[\"x\"]"]
            .iter()
            .map(|n| n.as_bytes().to_vec())
            .collect();
        names.extend(crate::test_samples::every_byte_at_every_place(b"abcd-efgh_ijk-lmn"));
        for name in names {
            for snake in [false, true] {
                let mut ours = name.clone();
                let identifier = identifier_made_snake(&mut ours, snake);
                assert_eq!((identifier, ours), one_at_a_time(&name, snake), "{name:?}");
            }
        }
    }
}
