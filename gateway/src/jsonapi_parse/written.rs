//! A list answer flattened straight into the bytes the MCP answer carries:
//! its structured content (compact JSON) and its text block (the same
//! without null members, as the inside of a JSON string). Nothing is built
//! only to be written: each resource's fields are written as they are
//! parsed, then put in name order by their byte ranges, and the server's
//! output rules (write-only values, sensitive outputs) are applied to those
//! ranges. Each item keeps its organization, for the allow-list.
//!
//! The bytes are the ones the tree's path writes (`jsonapi_parse`'s
//! flattening, the output rules, the allow-list, `json_write`), checked
//! byte for byte by the tests. Anything the tree's path would read
//! otherwise is unusual here too and gives `None`: the caller then takes
//! the tree's path. So are a single resource, items that are not objects,
//! a repeated key anywhere (a tree keeps the last), and objects nested
//! deeper than [`MAX_REORDERED_DEPTH`] whose members need reordering.

use std::ops::Range;

use super::*;
use crate::{
    json_write::{write_str, write_string_twice, write_text_and_value},
    jsonapi::renames_to_snake,
};

/// A list answer's bytes, and each resource's skeleton (when asked for).
pub struct WrittenList {
    /// `pagination` and `next_cursor`, as the tree's list has them.
    pub envelope: Map<String, Value>,
    /// Where the resources are written, one after another.
    arena: Arena,
    results: Items,
    /// `None`: no `included`, or not a list (the tree drops it).
    included: Option<Items>,
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

/// The list answer `bytes`, written; `None` when it must take the tree's
/// path (see the module's header).
pub fn flatten_list(
    bytes: &[u8],
    base: Option<&Url>,
    requested_page: Option<u64>,
    requested_size: Option<u64>,
    grants: &Grants,
    rules: &OutputRules,
    with_skeletons: bool,
) -> Option<(WrittenList, Vec<Skeleton>)> {
    let skeletons = Skeletons::default();
    let cx = Cx { base, grants, skeletons: with_skeletons.then_some(&skeletons) };
    let text = std::str::from_utf8(bytes).ok()?;
    let mut de = serde_json::Deserializer::from_str(text);
    // Flattened, a list is about as long as its text: written once, not grown.
    let mut arena = Arena { s: Vec::with_capacity(bytes.len()), t: Vec::with_capacity(bytes.len()) };
    let doc = ListDocSeed { cx: &cx, rules, arena: &mut arena }.deserialize(&mut de).ok()?;
    de.end().ok()?;
    let ListDoc { results, included, meta, links } = doc;
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
    let mut all = skeletons.data.into_inner();
    all.extend(skeletons.included.into_inner());
    Some((WrittenList { envelope, arena, results, included }, all))
}

impl WrittenList {
    /// Keeps the items (results and included) whose organization, when
    /// they name one, `allowed` says yes to.
    pub fn retain_organizations(&mut self, allowed: impl Fn(&str) -> bool) {
        for items in std::iter::once(&mut self.results).chain(self.included.as_mut()) {
            items.spans.retain(|item| item.organization.as_deref().is_none_or(&allowed));
        }
    }

    /// The answer's two texts: its members in name order (`included`,
    /// `next_cursor`, `pagination`, `results`), null ones left out of the text.
    pub fn finish(self) -> WrittenAnswer {
        enum Part<'a> {
            Value(&'a Value),
            Items(&'a Items),
        }
        let mut members: Vec<(&str, Part<'_>)> = self.envelope.iter().map(|(name, v)| (name.as_str(), Part::Value(v))).collect();
        members.push(("results", Part::Items(&self.results)));
        if let Some(included) = &self.included {
            members.push(("included", Part::Items(included)));
        }
        members.sort_by(|a, b| a.0.cmp(b.0));
        let arena = &self.arena;
        let mut s = Vec::with_capacity(arena.s.len() + 512);
        let mut t = Vec::with_capacity(arena.t.len() + 512);
        s.push(b'{');
        t.push(b'{');
        let mut first_text = true;
        for (i, (name, part)) in members.into_iter().enumerate() {
            if i > 0 {
                s.push(b',');
            }
            if let Part::Value(Value::Null) = part {
                write_str(&mut s, name);
                s.extend_from_slice(b":null");
                continue;
            }
            if !first_text {
                t.push(b',');
            }
            first_text = false;
            write_string_twice(&mut t, &mut s, name);
            s.push(b':');
            t.push(b':');
            match part {
                Part::Value(v) => write_text_and_value(&mut t, &mut s, v),
                Part::Items(items) => items.write_array(arena, &mut s, &mut t),
            }
        }
        s.push(b'}');
        t.push(b'}');
        WrittenAnswer { structured: s, text: t }
    }
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

// ---- the document ----------------------------------------------------------------

struct ListDoc {
    results: Items,
    included: Option<Items>,
    meta: Option<Value>,
    links: Option<Value>,
}

struct ListDocSeed<'a> {
    cx: &'a Cx<'a>,
    rules: &'a OutputRules,
    arena: &'a mut Arena,
}

impl<'de> DeserializeSeed<'de> for ListDocSeed<'_> {
    type Value = ListDoc;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<ListDoc, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ListDocSeed<'_> {
    type Value = ListDoc;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON:API list document")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ListDoc, A::Error> {
        let (mut data, mut included, mut meta, mut links) = (None, None, None, None);
        let ListDocSeed { cx, rules, arena } = self;
        let mut scratch = Scratch::default();
        let skeletons = cx.skeletons;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let list = |scratch, arena, skeletons| ListSeed { cx, rules, scratch, arena, skeletons };
            match &*key {
                "data" => once(&mut data, map.next_value_seed(list(&mut scratch, &mut *arena, skeletons.map(|s| &s.data)))?)?,
                "included" => once(&mut included, map.next_value_seed(list(&mut scratch, &mut *arena, skeletons.map(|s| &s.included)))?)?,
                "meta" => once(&mut meta, map.next_value()?)?,
                "links" => once(&mut links, map.next_value()?)?,
                _ => map.next_value_seed(Skip)?,
            }
        }
        // `data` must be a list; `included` is dropped when it is not one.
        let results = data.flatten().ok_or_else(unusual)?;
        Ok(ListDoc { results, included: included.flatten(), meta, links })
    }
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
        loop {
            let resource = ResourceWriter {
                cx: self.cx,
                rules: self.rules,
                scratch: &mut *self.scratch,
                arena: &mut *self.arena,
                items: &mut items,
                skeletons: self.skeletons,
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

/// Where a resource's values are written before its fields are put in
/// name order, and a spare buffer for reordering an object's members.
#[derive(Default)]
struct Scratch {
    s: Vec<u8>,
    t: Vec<u8>,
    spare: Vec<u8>,
    /// The members of the objects being written, innermost last.
    members: Vec<Member>,
    /// The resource's flat fields, and their names.
    fields: Vec<Entry>,
    names: Vec<u8>,
    /// Where `fields` are merged (kept for the next resource).
    merged: Vec<Entry>,
}

/// A value written in the scratch: its structured and text ranges.
#[derive(Clone)]
struct Span {
    s: Range<usize>,
    t: Range<usize>,
    null: bool,
}

impl Scratch {
    fn value(&mut self, v: &Value) -> Span {
        let (s, t) = (self.s.len(), self.t.len());
        write_text_and_value(&mut self.t, &mut self.s, v);
        Span { s: s..self.s.len(), t: t..self.t.len(), null: v.is_null() }
    }

    fn structured(&self, span: &Span) -> &[u8] {
        &self.s[span.s.clone()]
    }

    /// The string a span holds, decoded; `None` for anything else.
    fn string(&self, span: &Span) -> Option<String> {
        let bytes = self.structured(span);
        if bytes.first() != Some(&b'"') {
            return None;
        }
        serde_json::from_slice(bytes).ok()
    }
}

/// One resource of a list, flattened as `ResourceSeed` flattens it, with the
/// output rules applied, written to `items`; anything but an object is unusual.
struct ResourceWriter<'a> {
    cx: &'a Cx<'a>,
    rules: &'a OutputRules,
    scratch: &'a mut Scratch,
    arena: &'a mut Arena,
    items: &'a mut Items,
    skeletons: SkeletonsOf<'a>,
}

seed_of_any!(ResourceWriter<'_> => ());

impl<'de> Visitor<'de> for ResourceWriter<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON:API resource")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let sc = self.scratch;
        sc.s.clear();
        sc.t.clear();
        let (mut id, mut type_, mut attributes, mut relationships, mut links) = (None, None, None, None, None);
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match &*key {
                "id" => once(&mut id, map.next_value::<Value>()?)?,
                "type" => once(&mut type_, map.next_value::<Value>()?)?,
                "attributes" => once(&mut attributes, map.next_value_seed(AttributesWriter(&mut *sc))?)?,
                "relationships" => once(&mut relationships, map.next_value_seed(RelationshipsSeed { keep: self.skeletons.is_some() })?)?,
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
        sc.names.clear();
        sc.fields.clear();
        if let Some(links) = &links {
            link_fields(links, self.cx.base, |k, v| sc.field(k.as_bytes(), &v));
        }
        if let Some(t) = &type_ {
            sc.field(b"type", t);
        }
        if let Some(id) = &id {
            sc.field(b"id", id);
        }
        let heads = sc.fields.len();
        if let Some(Some(attributes)) = attributes {
            let kind = type_.as_ref().and_then(Value::as_str);
            for (name, value) in attributes {
                if self.cx.grants.keeps(kind, &name) {
                    sc.attribute(&name, value);
                }
            }
        }
        let attributes_end = sc.fields.len();
        for (name, value) in relationships.into_iter().flatten() {
            sc.field(name.as_bytes(), &value);
        }
        sc.merge_groups(heads, attributes_end).ok_or_else(unusual)?;
        apply_output_rules(sc, self.rules);
        let organization = if self.rules.record_organizations { organization_of(sc) } else { None };
        self.items.push(self.arena, sc, organization);
        Ok(())
    }
}

/// A flat field of the resource being written: its name (in the scratch's
/// `names`) and its value. Its group is where it is in `Scratch::fields`.
#[derive(Clone)]
struct Entry {
    /// The name's first eight bytes as one big-endian word (see `Field`).
    head: u64,
    name: Range<usize>,
    /// The name needs no escape (it is written as it is).
    plain: bool,
    value: Span,
}

impl Scratch {
    fn name(&self, entry: &Entry) -> &[u8] {
        &self.names[entry.name.clone()]
    }

    /// Names' byte order, as `Field::by_name`.
    fn by_name(&self, a: &Entry, b: &Entry) -> std::cmp::Ordering {
        a.head.cmp(&b.head).then_with(|| self.name(a).cmp(self.name(b)))
    }

    fn push_entry(&mut self, start: usize, value: Span) {
        let name = start..self.names.len();
        let bytes = &self.names[name.clone()];
        let plain = crate::json_write::needs_no_escape(bytes);
        self.fields.push(Entry { head: head_of(bytes), name, plain, value });
    }

    /// A field named `name` of the value `v`.
    fn field(&mut self, name: &[u8], v: &Value) {
        let value = self.value(v);
        let start = self.names.len();
        self.names.extend_from_slice(name);
        self.push_entry(start, value);
    }

    /// An attribute (its name as sent, made snake_case here), already written.
    fn attribute(&mut self, name: &str, value: Span) {
        let start = self.names.len();
        self.names.extend_from_slice(name.as_bytes());
        if renames_to_snake(name) {
            self.names[start..].iter_mut().filter(|b| **b == b'-').for_each(|b| *b = b'_');
        }
        self.push_entry(start, value);
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
        let mut merged = std::mem::take(&mut self.merged);
        merged.clear();
        let mut at = [0, 0, 0];
        let groups = [&*head, &*attributes, &*relationships];
        loop {
            // The least name among the groups' next fields; of equal ones, the earliest group's.
            let mut least: Option<usize> = None;
            for g in 0..3 {
                if let Some(candidate) = groups[g].get(at[g])
                    && least.is_none_or(|l| self.by_name(candidate, &groups[l][at[l]]).is_lt())
                {
                    least = Some(g);
                }
            }
            let Some(l) = least else { break };
            let kept = groups[l][at[l]].clone();
            for g in 0..3 {
                if groups[g].get(at[g]).is_some_and(|other| self.by_name(other, &kept).is_eq()) {
                    at[g] += 1;
                }
            }
            merged.push(kept);
        }
        self.fields = merged;
        self.merged = fields;
        Some(())
    }

    /// The index of the field `name` (the fields in name order).
    fn find(&self, name: &str) -> Result<usize, usize> {
        let (head, name) = (head_of(name.as_bytes()), name.as_bytes());
        self.fields.binary_search_by(|entry| entry.head.cmp(&head).then_with(|| self.name(entry).cmp(name)))
    }

    /// The written value of the field `name`.
    fn written(&self, name: &str) -> Option<&[u8]> {
        self.find(name).ok().map(|i| self.structured(&self.fields[i].value))
    }
}

impl Items {
    /// Appends the resource of the scratch's fields (in name order).
    fn push(&mut self, arena: &mut Arena, sc: &Scratch, organization: Option<String>) {
        let Arena { s, t } = arena;
        let (s0, t0) = (s.len(), t.len());
        s.reserve(sc.s.len() + sc.names.len() + sc.fields.len() * 4);
        t.reserve(sc.t.len() + sc.names.len() + sc.fields.len() * 6);
        s.push(b'{');
        t.push(b'{');
        let mut first_text = true;
        for (i, entry) in sc.fields.iter().enumerate() {
            if i > 0 {
                s.push(b',');
            }
            let name = sc.name(entry);
            if entry.value.null {
                write_field_name(s, None, name, entry.plain);
                s.extend_from_slice(b":null");
                continue;
            }
            if !first_text {
                t.push(b',');
            }
            first_text = false;
            write_field_name(s, Some(t), name, entry.plain);
            s.push(b':');
            t.push(b':');
            s.extend_from_slice(&sc.s[entry.value.s.clone()]);
            t.extend_from_slice(&sc.t[entry.value.t.clone()]);
        }
        s.push(b'}');
        t.push(b'}');
        self.spans.push(Item { s: s0..s.len(), t: t0..t.len(), organization });
    }
}

/// A field's name as a JSON string into `s` and (given) as that string's
/// bytes inside another into `t`.
fn write_field_name(s: &mut Vec<u8>, t: Option<&mut Vec<u8>>, name: &[u8], plain: bool) {
    if plain {
        s.push(b'"');
        s.extend_from_slice(name);
        s.push(b'"');
        if let Some(t) = t {
            t.extend_from_slice(br#"\""#);
            t.extend_from_slice(name);
            t.extend_from_slice(br#"\""#);
        }
        return;
    }
    // Names come from text parsed as UTF-8.
    let name = String::from_utf8_lossy(name);
    match t {
        Some(t) => write_string_twice(t, s, &name),
        None => write_str(s, &name),
    }
}

/// `execute::postprocess` on a resource's fields (in name order).
fn apply_output_rules(sc: &mut Scratch, rules: &OutputRules) {
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
                sc.fields[i].value = sc.value(&Value::Null);
            }
        }
        // So is a run task's HMAC key.
        Kind::Task => {
            if let Ok(i) = sc.find("hmac_key") {
                sc.fields.remove(i);
            }
        }
        Kind::Output if sensitive && !rules.reveal_sensitive_outputs => {
            let marker = sc.value(&Value::String(crate::execute::SENSITIVE_MARKER.to_owned()));
            match sc.find("value") {
                Ok(i) => sc.fields[i].value = marker,
                Err(i) => {
                    let start = sc.names.len();
                    sc.names.extend_from_slice(b"value");
                    sc.push_entry(start, marker);
                    let entry = sc.fields.pop().expect("just pushed");
                    sc.fields.insert(i, entry);
                }
            }
        }
        _ => {}
    }
}

/// `execute::org_of` on a resource's fields (in name order).
fn organization_of(sc: &Scratch) -> Option<String> {
    let string = |name: &str| sc.find(name).ok().and_then(|i| sc.string(&sc.fields[i].value));
    if sc.written("type") == Some(br#""organizations""#) {
        return string("id");
    }
    string("organization_name")
}

/// `attributes`: (name as sent, value written) pairs, each value's keys
/// snake_case (but the verbatim attributes'); `None` when not an object.
struct AttributesWriter<'a>(&'a mut Scratch);

type WrittenAttributes<'de> = Option<Vec<(Cow<'de, str>, Span)>>;

seed_of_any!(AttributesWriter<'_> => WrittenAttributes<'de>);

impl<'de> Visitor<'de> for AttributesWriter<'_> {
    type Value = WrittenAttributes<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON:API attributes")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(map.size_hint().unwrap_or(16));
        while let Some(name) = map.next_key_seed(KeySeed)? {
            let snake = !VERBATIM_ATTRIBUTES.contains(&&*name);
            let value = map.next_value_seed(ValueWriter { sc: &mut *self.0, snake, depth: 0 })?;
            out.push((name, value));
        }
        Ok(Some(out))
    }
    non_objects_as_none!();
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

seed_of_any!(ValueWriter<'_> => Span);

impl ValueWriter<'_> {
    fn literal(self, bytes: &[u8], null: bool) -> Span {
        let (s, t) = (self.sc.s.len(), self.sc.t.len());
        self.sc.s.extend_from_slice(bytes);
        self.sc.t.extend_from_slice(bytes);
        Span { s: s..self.sc.s.len(), t: t..self.sc.t.len(), null }
    }

    fn number(self, n: serde_json::Number) -> Span {
        let mut buf = Vec::with_capacity(24);
        let _ = serde_json::to_writer(&mut buf, &n);
        self.literal(&buf, false)
    }
}

impl<'de> Visitor<'de> for ValueWriter<'_> {
    type Value = Span;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Span, E> {
        Ok(self.literal(b"null", true))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Span, E> {
        Ok(self.literal(if v { b"true" } else { b"false" }, false))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Span, E> {
        Ok(self.number(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Span, E> {
        Ok(self.number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Span, E> {
        // As serde_json's `Value` reads it (a parsed number is always finite).
        Ok(match serde_json::Number::from_f64(v) {
            Some(n) => self.number(n),
            None => self.literal(b"null", true),
        })
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Span, E> {
        let (s, t) = (self.sc.s.len(), self.sc.t.len());
        write_string_twice(&mut self.sc.t, &mut self.sc.s, v);
        Ok(Span { s: s..self.sc.s.len(), t: t..self.sc.t.len(), null: false })
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Span, A::Error> {
        let sc = self.sc;
        let (s, t) = (sc.s.len(), sc.t.len());
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
        Ok(Span { s: s..sc.s.len(), t: t..sc.t.len(), null: false })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Span, A::Error> {
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
        Ok(Span { s: s0..s.len(), t: t0..t.len(), null: false })
    }
}

/// A member of an object being written: its name's range (in the
/// structured text, between its quotes) and its own ranges (name to value).
struct Member {
    head: u64,
    name: Range<usize>,
    s: Range<usize>,
    t: Range<usize>,
}

/// Writes a member's name (snake_case with `snake`) to both texts; its range
/// in the structured text, or `None` when it needed escapes (ordered by
/// what is written, such names might not sort as the tree sorts them).
fn write_name(sc: &mut Scratch, key: &str, snake: bool) -> Option<Range<usize>> {
    if snake && renames_to_snake(key) {
        // An identifier: nothing to escape.
        sc.s.push(b'"');
        let start = sc.s.len();
        sc.s.extend_from_slice(key.as_bytes());
        let end = sc.s.len();
        sc.s[start..].iter_mut().filter(|b| **b == b'-').for_each(|b| *b = b'_');
        sc.s.push(b'"');
        sc.t.extend_from_slice(br#"\""#);
        sc.t.extend_from_slice(&sc.s[start..end]);
        sc.t.extend_from_slice(br#"\""#);
        return Some(start..end);
    }
    let start = sc.s.len();
    write_string_twice(&mut sc.t, &mut sc.s, key);
    (sc.s.len() == start + key.len() + 2).then_some(start + 1..start + 1 + key.len())
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
