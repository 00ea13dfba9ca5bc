//! An answer flattened straight into the bytes the MCP answer carries (a
//! list, or one resource): its structured content (compact JSON) and its
//! text block (the same without null members, as the inside of a JSON
//! string). Nothing is built only to be written: each resource's fields
//! are written as they are parsed, then put in name order by their byte
//! ranges, and the server's output rules (write-only values, sensitive
//! outputs) are applied to those ranges. Each item keeps its organization,
//! for the allow-list. In a list, an attribute sent exactly as the one in
//! its place in the previous resource is copied from it (see [`Recall`]).
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

use serde_json::value::RawValue;

use super::*;
use crate::{
    json_write::{needs_no_escape, write_members_twice, write_string_twice, write_text_and_value},
    jsonapi::is_name_byte,
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

/// The two texts of a result: what `json_write::write_text_and_value` writes of it.
#[derive(Debug)]
pub struct WrittenAnswer {
    pub structured: Vec<u8>,
    pub text: Vec<u8>,
}

/// What the output rules need of the server: whether sensitive outputs
/// show, and whether each item's organization is kept (allow-lists).
pub struct OutputRules {
    pub reveal_sensitive_outputs: bool,
    pub record_organizations: bool,
}

/// The answer `bytes` (a list document, or one resource's), written;
/// `None` when it must take the tree's path (see the module's header).
pub fn flatten_document(
    bytes: &[u8],
    base: Option<&Url>,
    requested_page: Option<u64>,
    requested_size: Option<u64>,
    grants: &Grants,
    rules: &OutputRules,
    with_skeletons: bool,
) -> Option<(Written, Vec<Skeleton>)> {
    let skeletons = Skeletons::default();
    let cx = Cx { base, grants, skeletons: with_skeletons.then_some(&skeletons) };
    let text = std::str::from_utf8(bytes).ok()?;
    let mut de = serde_json::Deserializer::from_str(text);
    // Flattened, an answer is about as long as its text: written once, not grown.
    let mut arena = Arena { s: Vec::with_capacity(bytes.len()), t: Vec::with_capacity(bytes.len()) };
    let doc = DocSeed { cx: &cx, rules, arena: &mut arena }.deserialize(&mut de).ok()?;
    de.end().ok()?;
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
        let arena = &self.arena;
        let mut s = Vec::with_capacity(arena.s.len() + 512);
        let mut t = Vec::with_capacity(arena.t.len() + 512);
        match &self.shape {
            Shape::List { envelope, results } => finish_list(arena, envelope, results, self.included.as_ref(), &mut s, &mut t),
            Shape::Resource(resource) => resource.finish(arena, self.included.as_ref(), &mut s, &mut t),
        }
        WrittenAnswer { structured: s, text: t }
    }
}

fn finish_list(arena: &Arena, envelope: &Map<String, Value>, results: &Items, included: Option<&Items>, s: &mut Vec<u8>, t: &mut Vec<u8>) {
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
    s.push(b'{');
    t.push(b'{');
    let is_null = |part: &Part<'_>| matches!(part, Part::Value(Value::Null));
    write_members_twice(t, s, members, is_null, |t, s, part| match part {
        Part::Value(v) => write_text_and_value(t, s, v),
        Part::Items(items) => items.write_array(arena, s, t),
    });
    s.push(b'}');
    t.push(b'}');
}

// ---- items -----------------------------------------------------------------------

/// The two texts of resources written one after another.
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
    fn write_array(&self, arena: &Arena, s: &mut Vec<u8>, t: &mut Vec<u8>) {
        s.push(b'[');
        t.push(b'[');
        for (i, item) in self.spans.iter().enumerate() {
            if i > 0 {
                s.push(b',');
                t.push(b',');
            }
            s.extend_from_slice(&arena.s[item.s.clone()]);
            t.extend_from_slice(&arena.t[item.t.clone()]);
        }
        s.push(b']');
        t.push(b']');
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
    fn finish(&self, arena: &Arena, included: Option<&Items>, s: &mut Vec<u8>, t: &mut Vec<u8>) {
        s.push(b'{');
        t.push(b'{');
        // Each text has its own separators: null members are only in one.
        let (s0, t0) = (s.len(), t.len());
        let run = |s: &mut Vec<u8>, t: &mut Vec<u8>, span: &Span| {
            append_run(s, s0, &arena.s[span.s.clone()]);
            append_run(t, t0, &arena.t[span.t.clone()]);
        };
        run(s, t, &self.before);
        if let Some(included) = included {
            separate(s, s0);
            separate(t, t0);
            write_string_twice(t, s, "included");
            s.push(b':');
            t.push(b':');
            included.write_array(arena, s, t);
        }
        run(s, t, &self.after);
        s.push(b'}');
        t.push(b'}');
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

struct DocSeed<'a> {
    cx: &'a Cx<'a>,
    rules: &'a OutputRules,
    arena: &'a mut Arena,
}

impl<'de> DeserializeSeed<'de> for DocSeed<'_> {
    type Value = WrittenDoc;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<WrittenDoc, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DocSeed<'_> {
    type Value = WrittenDoc;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON:API document")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WrittenDoc, A::Error> {
        let (mut data, mut included, mut meta, mut links) = (None, None, None, None);
        let DocSeed { cx, rules, arena } = self;
        let mut kept = KeptScratch::take();
        let scratch = &mut kept.0;
        let skeletons = cx.skeletons;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let list = |scratch, arena, skeletons| ListSeed { cx, rules, scratch, arena, skeletons };
            match &*key {
                "data" => once(&mut data, map.next_value_seed(DataWriter(list(&mut *scratch, &mut *arena, skeletons.map(|s| &s.data))))?)?,
                "included" => once(&mut included, map.next_value_seed(list(&mut *scratch, &mut *arena, skeletons.map(|s| &s.included)))?)?,
                "meta" => once(&mut meta, map.next_value()?)?,
                "links" => once(&mut links, map.next_value()?)?,
                _ => map.next_value_seed(Skip)?,
            }
        }
        // `data` must be a list or a resource; `included` is dropped when it is not a list.
        let data = data.flatten().ok_or_else(unusual)?;
        Ok(WrittenDoc { data, included: included.flatten(), meta, links })
    }
}

/// `data`: a list of resources, or one; `None` for a scalar (the tree
/// keeps it as it is).
struct DataWriter<'a>(ListSeed<'a>);

seed_of_any!(DataWriter<'_> => Option<WrittenData>);

impl<'de> Visitor<'de> for DataWriter<'_> {
    type Value = Option<WrittenData>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON:API data")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Ok(self.0.visit_seq(seq)?.map(WrittenData::List))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let ListSeed { cx, rules, scratch, arena, skeletons } = self.0;
        let mut resource = None;
        ResourceWriter { cx, rules, scratch, arena, out: Out::Resource(&mut resource), skeletons, recall: None }.visit_map(map)?;
        Ok(resource.map(WrittenData::Resource))
    }
    scalars_as!(|_| None);
}

/// A list of resources, written; `None` for an object or a scalar (checked
/// as JSON: the tree drops an `included` that is not a list).
struct ListSeed<'a> {
    cx: &'a Cx<'a>,
    rules: &'a OutputRules,
    scratch: &'a mut Scratch,
    arena: &'a mut Arena,
    skeletons: SkeletonsOf<'a>,
}

seed_of_any!(ListSeed<'_> => Option<Items>);

impl<'de> Visitor<'de> for ListSeed<'_> {
    type Value = Option<Items>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON:API resources")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Items::default();
        let mut recall = Recall::default();
        loop {
            let resource = ResourceWriter {
                cx: self.cx,
                rules: self.rules,
                scratch: &mut *self.scratch,
                arena: &mut *self.arena,
                out: Out::List(&mut items),
                skeletons: self.skeletons,
                recall: Some(&mut recall),
            };
            if seq.next_element_seed(resource)?.is_none() {
                break;
            }
        }
        Ok(Some(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Skip.visit_map(map).map(|()| None)
    }
    scalars_as!(|_| None);
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
        let Scratch { s, t, spare, members, fields, merged, joined } = &mut self.0;
        if s.capacity() + t.capacity() + spare.capacity() > MAX_KEPT_SCRATCH_BYTES
            || [&*members, &*fields, &*merged, &*joined].iter().any(|m| m.capacity() > MAX_KEPT_SCRATCH_MEMBERS)
        {
            return;
        }
        for bytes in [&mut *s, &mut *t, &mut *spare] {
            bytes.clear();
        }
        for list in [members, fields, merged, joined] {
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
        if bytes.first() != Some(&b'"') {
            return None;
        }
        serde_json::from_slice(bytes).ok()
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
    cx: &'a Cx<'a>,
    rules: &'a OutputRules,
    scratch: &'a mut Scratch,
    arena: &'a mut Arena,
    out: Out<'a>,
    skeletons: SkeletonsOf<'a>,
    /// A list's: what its previous resource wrote.
    recall: Option<&'a mut Recall<'de>>,
}

/// Where a written resource goes: after a list's others, or alone.
enum Out<'a> {
    List(&'a mut Items),
    Resource(&'a mut Option<Resource>),
}

seed_of_any!(ResourceWriter<'_, 'de> => ());

impl<'de> Visitor<'de> for ResourceWriter<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON:API resource")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let sc = self.scratch;
        let mut recall = self.recall;
        if let Some(recall) = recall.as_deref_mut() {
            recall.next_resource(sc);
        }
        sc.s.clear();
        sc.t.clear();
        let (mut id, mut type_, mut attributes, mut relationships, mut links) = (None, None, None, None, None);
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match &*key {
                "id" => once(&mut id, map.next_value::<Value>()?)?,
                "type" => once(&mut type_, map.next_value::<Value>()?)?,
                "attributes" => once(&mut attributes, map.next_value_seed(AttributesWriter(&mut *sc, recall.as_deref_mut()))?)?,
                "relationships" => {
                    let writer = RelationshipsWriter { sc: &mut *sc, keep: self.skeletons.is_some() };
                    once(&mut relationships, map.next_value_seed(writer)?)?
                }
                "links" => once(&mut links, map.next_value::<Value>()?)?,
                _ => map.next_value_seed(Skip)?,
            }
        }
        let (relationships, relations) = match relationships {
            Some(Some((fields, relations))) => (Some(fields), relations),
            _ => (None, Vec::new()),
        };
        if let Some(skeletons) = self.skeletons {
            push_skeleton(skeletons, &type_, &id, relations);
        }
        // As `ResourceSeed`: links' fields, type, id, attributes,
        // relationships; each group put in name order, then merged.
        let mut heads: Vec<(String, Value)> = Vec::with_capacity(4);
        if let Some(links) = &links {
            link_fields(links, self.cx.base, |k, v| heads.push((k, v)));
        }
        heads.extend(type_.iter().map(|t| ("type".to_owned(), t.clone())));
        heads.extend(id.map(|id| ("id".to_owned(), id)));
        sc.fields.clear();
        for (name, value) in &heads {
            let field = sc.write_field(name, value).ok_or_else(unusual)?;
            sc.fields.push(field);
        }
        let kind = type_.as_ref().and_then(Value::as_str);
        let attributes = attributes.flatten().unwrap_or_default();
        match recall {
            Some(recall) => recall.keep_attributes(kind, self.cx.grants, attributes, &mut sc.fields),
            None => sc.fields.extend(attributes.into_iter().filter(|(name, _)| self.cx.grants.keeps(kind, name)).map(|(_, field)| field)),
        }
        let attributes_end = sc.fields.len();
        sc.fields.extend(relationships.into_iter().flatten());
        sc.merge_groups(heads.len(), attributes_end).ok_or_else(unusual)?;
        apply_output_rules(sc, self.rules).ok_or_else(unusual)?;
        let organization = if self.rules.record_organizations { organization_of(sc) } else { None };
        match self.out {
            Out::List(items) => items.push(self.arena, sc, organization),
            Out::Resource(resource) => *resource = Some(Resource::write(self.arena, sc, organization).ok_or_else(unusual)?),
        }
        Ok(())
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
/// attributes'); `None` when not an object.
struct AttributesWriter<'a, 'de>(&'a mut Scratch, Option<&'a mut Recall<'de>>);

type WrittenAttributes<'de> = Option<Vec<(Cow<'de, str>, Member)>>;

seed_of_any!(AttributesWriter<'_, 'de> => WrittenAttributes<'de>);

impl<'de> Visitor<'de> for AttributesWriter<'_, 'de> {
    type Value = WrittenAttributes<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON:API attributes")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (sc, mut recall) = (self.0, self.1);
        let mut out = Vec::with_capacity(map.size_hint().unwrap_or(48));
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let field = match (&key, recall.as_deref_mut()) {
                (Cow::Borrowed(key), Some(recall)) if out.len() < MAX_RECALLED => {
                    let raw: &'de RawValue = map.next_value()?;
                    recall.attribute(sc, out.len(), key, raw.get()).ok_or_else(unusual)?
                }
                _ => {
                    let (s0, t0) = (sc.s.len(), sc.t.len());
                    let name = write_attribute_name(sc, &key)?;
                    let value = map.next_value_seed(ValueWriter { sc: &mut *sc, snake: snake_value(&key), depth: 0 })?;
                    sc.member(s0, t0, name, value)
                }
            };
            out.push((key, field));
        }
        Ok(Some(out))
    }
    non_objects_as_none!();
}

/// An attribute's name, written snake_case with its colon.
fn write_attribute_name<E: de::Error>(sc: &mut Scratch, key: &str) -> Result<Range<usize>, E> {
    // A name that needs escapes might not sort as the tree sorts it.
    let name = write_name(sc, key, true).ok_or_else(unusual)?;
    sc.s.push(b':');
    sc.t.push(b':');
    Ok(name)
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
    }

    /// Attribute `key` (the `place`-th) with the value `raw`, written: its
    /// field copied when it is the one in its place before, else written.
    fn attribute(&mut self, sc: &mut Scratch, place: usize, key: &'de str, raw: &'de str) -> Option<Member> {
        let (s0, t0) = (sc.s.len(), sc.t.len());
        let field = match self.previous.get(place).filter(|before| before.key == key && before.raw == raw) {
            Some(before) => {
                let was = &before.field;
                sc.s.extend_from_slice(&self.s[was.s.clone()]);
                sc.t.extend_from_slice(&self.t[was.t.clone()]);
                let name = s0 + (was.name.start - was.s.start)..s0 + (was.name.end - was.s.start);
                Member { head: was.head, name, s: s0..sc.s.len(), t: t0..sc.t.len() }
            }
            None => {
                let name = write_attribute_name::<serde_json::Error>(sc, key).ok()?;
                let mut de = serde_json::Deserializer::from_str(raw);
                let value = ValueWriter { sc: &mut *sc, snake: snake_value(key), depth: 0 }.deserialize(&mut de).ok()?;
                sc.member(s0, t0, name, value)
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

/// `relationships`: each one's fields written, named and filled as
/// `relationship_fields` names and fills them, and (with `keep`) each
/// one's name and `(type, id)` pairs; `None` when not an object.
struct RelationshipsWriter<'a> {
    sc: &'a mut Scratch,
    keep: bool,
}

type WrittenRelationships = Option<(Vec<Member>, Relations)>;

seed_of_any!(RelationshipsWriter<'_> => WrittenRelationships);

impl<'de> Visitor<'de> for RelationshipsWriter<'_> {
    type Value = WrittenRelationships;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON:API relationships")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let sc = self.sc;
        let mut fields = Vec::with_capacity(16);
        let kept =
            read_relationships(map, self.keep, |name, linkage| write_relationship(sc, name, linkage, &mut fields).ok_or_else(unusual))?;
        Ok(Some((fields, kept)))
    }
    non_objects_as_none!();
}

/// `relationship_fields` of relationship `name`, written: the names are
/// made of the name as sent and the suffix, then made snake_case whole
/// (the same name: the suffixes are identifiers, and a stem is one
/// exactly when the name is).
fn write_relationship(sc: &mut Scratch, name: &str, linkage: Linkage, fields: &mut Vec<Member>) -> Option<()> {
    match linkage {
        Linkage::Many(ids) => {
            let (stem, y) = singular_parts(name);
            fields.push(sc.write_field_of(&[stem, y, "_ids"], true, &Value::Array(ids))?);
        }
        Linkage::One(id) => {
            if name == "organization" {
                fields.push(sc.write_field("organization_name", &id)?);
            }
            fields.push(sc.write_field_of(&[name, "_id"], true, &id)?);
        }
        Linkage::Other => fields.push(sc.write_field_of(&[name, "_id"], true, &Value::Null)?),
    }
    Some(())
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
struct ValueWriter<'a> {
    sc: &'a mut Scratch,
    snake: bool,
    depth: u8,
}

seed_of_any!(ValueWriter<'_> => Wrote);

impl ValueWriter<'_> {
    fn literal(self, bytes: &[u8], null: bool) -> Wrote {
        self.sc.s.extend_from_slice(bytes);
        self.sc.t.extend_from_slice(bytes);
        Wrote { null }
    }

    /// As serde_json writes it (nothing in a number changes in the text).
    fn number(self, n: serde_json::Number) -> Wrote {
        let Scratch { s, t, .. } = self.sc;
        let start = s.len();
        let _ = serde_json::to_writer(&mut *s, &n);
        t.extend_from_slice(&s[start..]);
        Wrote { null: false }
    }
}

impl<'de> Visitor<'de> for ValueWriter<'_> {
    type Value = Wrote;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Wrote, E> {
        Ok(self.literal(b"null", true))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Wrote, E> {
        Ok(self.literal(if v { b"true" } else { b"false" }, false))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Wrote, E> {
        Ok(self.number(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Wrote, E> {
        Ok(self.number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Wrote, E> {
        // As serde_json's `Value` reads it (a parsed number is always finite).
        Ok(match serde_json::Number::from_f64(v) {
            Some(n) => self.number(n),
            None => self.literal(b"null", true),
        })
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Wrote, E> {
        write_string_twice(&mut self.sc.t, &mut self.sc.s, v);
        Ok(Wrote { null: false })
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Wrote, A::Error> {
        let sc = self.sc;
        sc.s.push(b'[');
        sc.t.push(b'[');
        let mut first = true;
        loop {
            if !first {
                sc.s.push(b',');
                sc.t.push(b',');
            }
            let item = ValueWriter { sc: &mut *sc, snake: self.snake, depth: self.depth.saturating_add(1) };
            if seq.next_element_seed(item)?.is_none() {
                if !first {
                    // The separator written for an item that did not come.
                    sc.s.pop();
                    sc.t.pop();
                }
                break;
            }
            first = false;
        }
        sc.s.push(b']');
        sc.t.push(b']');
        Ok(Wrote { null: false })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Wrote, A::Error> {
        let sc = self.sc;
        let (s0, t0) = (sc.s.len(), sc.t.len());
        sc.s.push(b'{');
        sc.t.push(b'{');
        // Each member is written where it comes (name, colon, value), and
        // its ranges kept (on the scratch's stack of members): in name
        // order already (the usual case), the object is done; else the
        // members are copied in name order.
        let base = sc.members.len();
        let mut in_text = 0usize;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if sc.members.len() > base {
                sc.s.push(b',');
            }
            let before_text = sc.t.len();
            if in_text > 0 {
                sc.t.push(b',');
            }
            let (ms, mt) = (sc.s.len(), sc.t.len());
            let name = write_name(sc, &key, self.snake).ok_or_else(unusual)?;
            sc.s.push(b':');
            sc.t.push(b':');
            let value = map.next_value_seed(ValueWriter { sc: &mut *sc, snake: self.snake, depth: self.depth.saturating_add(1) })?;
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
            if ours.windows(2).any(|pair| by_name(&pair[0], &pair[1]).is_eq()) || self.depth > MAX_REORDERED_DEPTH {
                return Err(unusual());
            }
            reorder(s, t, spare, s0, t0, ours);
        }
        members.truncate(base);
        Ok(Wrote { null: false })
    }
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
        // Every byte value, at every position of a word and of the tail.
        for b in 0..=255u8 {
            for len in [1, 7, 8, 9, 16, 17] {
                for at in 0..len {
                    let mut name = b"abcd-efgh_ijk-lmn".to_vec();
                    name.truncate(len);
                    name[at] = b;
                    names.push(name);
                }
            }
        }
        for name in names {
            for snake in [false, true] {
                let mut ours = name.clone();
                let identifier = identifier_made_snake(&mut ours, snake);
                assert_eq!((identifier, ours), one_at_a_time(&name, snake), "{name:?}");
            }
        }
    }
}
