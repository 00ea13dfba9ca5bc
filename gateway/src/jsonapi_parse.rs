//! Flattening a JSON:API answer while it is parsed: the value
//! [`flatten_document_owned`](crate::jsonapi::flatten_document_owned) makes
//! of the parsed document, built straight from the text. No tree of the
//! document is built only to be taken apart: names are converted as they
//! are read (one string each, not two), attributes go straight into the
//! flat resource, and what flattening leaves out (relationship links,
//! `jsonapi`, a resource's `meta`) is checked as JSON but never stored.
//!
//! Only where the two agree by construction. Anything unusual gives `None`,
//! and the caller parses the tree and flattens it as before: a key given
//! twice (a tree keeps the last, here the first would be seen first), two
//! attribute or relationship names that flatten to one, a document that is
//! not an object or has no `data`, and of course text that is not JSON.
//! What is parsed is checked exactly as a tree's parse checks it (the same
//! parser, numbers, escapes and nesting limit), ignored parts included.

use std::{borrow::Cow, fmt};

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use url::Url;

use crate::jsonapi::{
    Grants, Keeps, Linkage, VERBATIM_ATTRIBUTES, link_fields, list_result, pagination, relationship_fields, single_result, singular_parts,
    to_snake,
};

/// The flattened form of the JSON:API document `bytes`, or `None` when it
/// must be parsed and flattened as a tree (see the module's header).
pub fn flatten_text(
    bytes: &[u8],
    base: Option<&Url>,
    requested_page: Option<u64>,
    requested_size: Option<u64>,
    grants: &Grants,
) -> Option<Value> {
    flatten(bytes, Cx { base, grants, skeletons: None }).map(|doc| doc.flattened(requested_page, requested_size))
}

/// [`flatten_text`], and the skeleton of each resource of `data`, then of
/// `included`: what remembering owners reads (`execute::owners`; it learns
/// the same from the skeletons as from the whole document).
pub fn flatten_text_with_skeleton(
    bytes: &[u8],
    base: Option<&Url>,
    requested_page: Option<u64>,
    requested_size: Option<u64>,
    grants: &Grants,
) -> Option<(Value, Vec<Skeleton>)> {
    let skeletons = Skeletons::default();
    let doc = flatten(bytes, Cx { base, grants, skeletons: Some(&skeletons) })?;
    let mut all = skeletons.data.into_inner();
    all.extend(skeletons.included.into_inner());
    Some((doc.flattened(requested_page, requested_size), all))
}

/// What remembering owners reads of a resource: its `type` and `id` (when
/// both are strings) and, in name order, each relationship's name and the
/// `(type, id)` of its `data` (the identifiers with both as strings), of
/// the relationships with any such identifier and of `organization`.
/// Its strings are `String`s read as a tree, borrowed from the text where
/// they can be when written (`Cow`).
#[derive(Debug, Default, PartialEq)]
pub struct Skeleton<S = String> {
    pub own: Option<(S, S)>,
    pub relations: Vec<(S, Vec<(S, S)>)>,
}

fn flatten(bytes: &[u8], cx: Cx<'_>) -> Option<Doc> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut de = serde_json::Deserializer::from_str(text);
    let doc = DocSeed(&cx).deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(doc)
}

/// What every part of one document is flattened with.
struct Cx<'a> {
    base: Option<&'a Url>,
    grants: &'a Grants,
    /// Where resources' skeletons go, when asked for.
    skeletons: Option<&'a Skeletons>,
}

#[derive(Default)]
struct Skeletons<S = String> {
    data: std::cell::RefCell<Vec<Skeleton<S>>>,
    included: std::cell::RefCell<Vec<Skeleton<S>>>,
}

/// The error that sends a document back to the tree (never shown).
fn unusual<E: de::Error>() -> E {
    E::custom("flattened as a tree")
}

/// Sets a field seen once; a second time is unusual.
fn once<T, E: de::Error>(slot: &mut Option<T>, value: T) -> Result<(), E> {
    if slot.is_some() {
        return Err(unusual());
    }
    *slot = Some(value);
    Ok(())
}

/// The scalar visits of a visitor, each read as the `Value` a tree holds
/// (as serde_json's own `Value` visitor makes it) and passed to `$wrap`.
macro_rules! scalars_as {
    ($wrap:expr) => {
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(($wrap)(Value::Null))
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(($wrap)(Value::Bool(v)))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(($wrap)(Value::Number(v.into())))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(($wrap)(Value::Number(v.into())))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(($wrap)(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(($wrap)(Value::String(v.to_owned())))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(($wrap)(Value::String(v)))
        }
    };
}

/// `DeserializeSeed` for a visitor of any JSON value.
macro_rules! seed_of_any {
    ($seed:ty => $value:ty) => {
        impl<'de> DeserializeSeed<'de> for $seed {
            type Value = $value;
            fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
        }
    };
}

/// The visits of anything but an object, for a visitor whose value is an
/// `Option`: checked as JSON, and `None`.
macro_rules! non_objects_as_none {
    () => {
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            Skip.visit_seq(seq).map(|()| None)
        }
        scalars_as!(|_| None);
    };
}

pub mod written;

// ---- the document ----------------------------------------------------------------

enum Data {
    List(Vec<Value>),
    Single(Value),
}

struct Doc {
    data: Data,
    /// `Some(None)`: `included` was there but not a list.
    included: Option<Option<Vec<Value>>>,
    meta: Option<Value>,
    links: Option<Value>,
}

impl Doc {
    /// As `flatten_list_owned` / `flatten_single_owned` assemble it.
    fn flattened(self, requested_page: Option<u64>, requested_size: Option<u64>) -> Value {
        let included = self.included.flatten();
        match self.data {
            Data::List(results) => {
                let mut doc = Map::new();
                if let Some(meta) = self.meta {
                    doc.insert("meta".into(), meta);
                }
                if let Some(links) = self.links {
                    doc.insert("links".into(), links);
                }
                let pagination = pagination(&Value::Object(doc), requested_page, requested_size, results.len());
                list_result(results, pagination, included)
            }
            Data::Single(flat) => single_result(flat, included),
        }
    }
}

struct DocSeed<'a>(&'a Cx<'a>);

impl<'de> DeserializeSeed<'de> for DocSeed<'_> {
    type Value = Doc;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Doc, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DocSeed<'_> {
    type Value = Doc;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON:API document")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Doc, A::Error> {
        let (mut data, mut included, mut meta, mut links) = (None, None, None, None);
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match &*key {
                "data" => once(&mut data, map.next_value_seed(DataSeed(self.0))?)?,
                "included" => once(&mut included, map.next_value_seed(ResourcesSeed(self.0))?)?,
                "meta" => once(&mut meta, map.next_value()?)?,
                "links" => once(&mut links, map.next_value()?)?,
                _ => map.next_value_seed(Skip)?,
            }
        }
        let data = data.ok_or_else(unusual)?;
        Ok(Doc { data, included, meta, links })
    }
}

/// `data`: a list of resources, or one (anything else is kept as it is).
struct DataSeed<'a>(&'a Cx<'a>);

seed_of_any!(DataSeed<'_> => Data);

impl<'de> Visitor<'de> for DataSeed<'_> {
    type Value = Data;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON:API data")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Data, A::Error> {
        resources(self.0, seq, self.0.skeletons.map(|s| &s.data)).map(Data::List)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Data, A::Error> {
        ResourceSeed(self.0, self.0.skeletons.map(|s| &s.data)).visit_map(map).map(Data::Single)
    }
    scalars_as!(Data::Single);
}

/// `included`: a list of resources; anything else is checked and dropped.
struct ResourcesSeed<'a>(&'a Cx<'a>);

seed_of_any!(ResourcesSeed<'_> => Option<Vec<Value>>);

impl<'de> Visitor<'de> for ResourcesSeed<'_> {
    type Value = Option<Vec<Value>>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON:API resources")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        resources(self.0, seq, self.0.skeletons.map(|s| &s.included)).map(Some)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Skip.visit_map(map).map(|()| None)
    }
    scalars_as!(|_| None);
}

type SkeletonsOf<'a, S = String> = Option<&'a std::cell::RefCell<Vec<Skeleton<S>>>>;

fn resources<'de, A: SeqAccess<'de>>(cx: &Cx<'_>, mut seq: A, skeletons: SkeletonsOf<'_>) -> Result<Vec<Value>, A::Error> {
    let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
    while let Some(resource) = seq.next_element_seed(ResourceSeed(cx, skeletons))? {
        out.push(resource);
    }
    Ok(out)
}

// ---- one resource -------------------------------------------------------------

/// One resource, flattened as `flatten_resource_owned` does; anything but
/// an object is kept as it is. Its skeleton goes to `.1`, when given.
struct ResourceSeed<'a>(&'a Cx<'a>, SkeletonsOf<'a>);

seed_of_any!(ResourceSeed<'_> => Value);

/// Where a flat field came from: of two fields with one name, the one from
/// the earlier group wins; two from one group (but the first) are unusual.
const HEAD: u8 = 0;
const ATTRIBUTE: u8 = 1;
const RELATIONSHIP: u8 = 2;

impl<'de> Visitor<'de> for ResourceSeed<'_> {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON:API resource")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let (mut id, mut type_, mut attributes, mut relationships, mut links) = (None, None, None, None, None);
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match &*key {
                "id" => once(&mut id, map.next_value::<Value>()?)?,
                "type" => once(&mut type_, map.next_value::<Value>()?)?,
                "attributes" => once(&mut attributes, map.next_value_seed(AttributesSeed)?)?,
                "relationships" => once(&mut relationships, map.next_value_seed(RelationshipsSeed { keep: self.1.is_some() })?)?,
                "links" => once(&mut links, map.next_value::<Value>()?)?,
                _ => map.next_value_seed(Skip)?,
            }
        }
        let (relationships, relations) = match relationships {
            Some(Some((fields, relations))) => (Some(fields), relations),
            _ => (None, Vec::new()),
        };
        if let Some(skeletons) = self.1 {
            push_skeleton(skeletons, &type_, &id, relations);
        }
        // The fields in order of precedence, as the tree's flattening
        // pushes them: links' fields, type, id, attributes, relationships.
        let mut fields: Vec<Field> = Vec::new();
        if let Some(links) = &links {
            link_fields(links, self.0.base, |k, v| fields.push(Field::new(k, v, HEAD)));
        }
        let kind = type_.as_ref().and_then(Value::as_str).map(str::to_owned);
        if let Some(t) = type_ {
            fields.push(Field::new("type".into(), t, HEAD));
        }
        if let Some(id) = id {
            fields.push(Field::new("id".into(), id, HEAD));
        }
        if let Some(Some(attributes)) = attributes {
            fields.reserve(attributes.len());
            for (name, value) in attributes {
                // Decided here, not while reading: `type` may come after `attributes`.
                if self.0.grants.keeps(kind.as_deref(), &name) {
                    fields.push(Field::new(to_snake(&name), value, ATTRIBUTE));
                }
            }
        }
        if let Some(relationships) = relationships {
            fields.extend(relationships.into_iter().map(|(name, value)| Field::new(name, value, RELATIONSHIP)));
        }
        Ok(Value::Object(in_name_order(fields)?.into_iter().collect()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Value, A::Error> {
        values(seq).map(Value::Array)
    }
    scalars_as!(|v| v);
}

/// A resource's flat fields in name order, of two with one name the one of
/// the earlier group (as the tree's flattening keeps them); two of one
/// group are unusual (the tree orders one group's fields by name, not as
/// read).
fn in_name_order<E: de::Error>(mut fields: Vec<Field>) -> Result<Vec<(String, Value)>, E> {
    // Stable: fields of one name stay together, in group order.
    fields.sort_by(Field::by_name);
    let mut kept: Vec<(String, Value)> = Vec::with_capacity(fields.len());
    let mut previous_group = HEAD;
    for Field { name, value, group, .. } in fields {
        if kept.last().is_some_and(|(previous, _)| *previous == name) {
            if group == previous_group {
                return Err(unusual());
            }
            previous_group = group;
            continue;
        }
        kept.push((name, value));
        previous_group = group;
    }
    Ok(kept)
}

/// The skeleton of a resource of `type_` and `id` with `relations`.
fn push_skeleton<S: Ord + From<String>>(
    skeletons: &std::cell::RefCell<Vec<Skeleton<S>>>,
    type_: &Option<Value>,
    id: &Option<Value>,
    mut relations: Relations<S>,
) {
    // In name order, as a tree's relationships are (names are unique: a repeated one is unusual).
    relations.sort_by(|a, b| a.0.cmp(&b.0));
    let own = match (type_, id) {
        (Some(Value::String(t)), Some(Value::String(i))) => Some((t.clone().into(), i.clone().into())),
        _ => None,
    };
    skeletons.borrow_mut().push(Skeleton { own, relations });
}

/// A flat field of a resource (or a member of an object) and the group it
/// came from.
struct Field {
    /// The name's first eight bytes as one big-endian word (zero-padded):
    /// ordering by it, then by the whole name, is the names' byte order, and
    /// most names differ within it, so most comparisons are one of words.
    head: u64,
    name: String,
    value: Value,
    group: u8,
}

impl Field {
    fn new(name: String, value: Value, group: u8) -> Self {
        Self { head: head_of(name.as_bytes()), name, value, group }
    }

    /// The names' byte order.
    fn by_name(&self, other: &Self) -> std::cmp::Ordering {
        self.head.cmp(&other.head).then_with(|| self.name.cmp(&other.name))
    }
}

/// A name's first eight bytes as one big-endian word (zero-padded).
fn head_of(name: &[u8]) -> u64 {
    let mut head = [0u8; 8];
    let n = name.len().min(8);
    head[..n].copy_from_slice(&name[..n]);
    u64::from_be_bytes(head)
}

/// `attributes`: (name as sent, value) pairs, each value's keys already
/// snake_case (but the verbatim attributes'); `None` when not an object.
struct AttributesSeed;

type Attributes<'de> = Option<Vec<(Cow<'de, str>, Value)>>;

seed_of_any!(AttributesSeed => Attributes<'de>);

impl<'de> Visitor<'de> for AttributesSeed {
    type Value = Attributes<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON:API attributes")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(map.size_hint().unwrap_or(16));
        while let Some(name) = map.next_key_seed(KeySeed)? {
            let value = if VERBATIM_ATTRIBUTES.contains(&&*name) { map.next_value()? } else { map.next_value_seed(SnakeValue)? };
            out.push((name, value));
        }
        Ok(Some(out))
    }
    non_objects_as_none!();
}

/// `relationships`, as flat fields: `{name}_id`, `{singular}_ids`, and
/// `organization_name`; with `keep`, also each relationship's name and
/// identifiers (for the skeleton). `None` when not an object.
struct RelationshipsSeed {
    keep: bool,
}

/// Flat fields, and (kept) each relationship's name and `(type, id)` pairs.
type Relationships = Option<(Vec<(String, Value)>, Relations)>;

/// Each relationship's name and the `(type, id)` of its identifiers.
type Relations<S = String> = Vec<(S, Vec<(S, S)>)>;

seed_of_any!(RelationshipsSeed => Relationships);

impl<'de> Visitor<'de> for RelationshipsSeed {
    type Value = Relationships;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON:API relationships")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Vec::with_capacity(16);
        let kept = read_relationships(map, self.keep, |name, data| {
            relationship_fields(name, data, |k, v| fields.push((k, v)));
            Ok(())
        })?;
        Ok(Some((fields, kept)))
    }
    non_objects_as_none!();
}

/// Reads a `relationships` object: each relationship's name and linkage
/// go to `each`, and (with `keep`) each one's name and `(type, id)` pairs
/// are returned; a repeated name is unusual.
fn read_relationships<'de, A: MapAccess<'de>>(
    mut map: A,
    keep: bool,
    mut each: impl FnMut(&str, Linkage) -> Result<(), A::Error>,
) -> Result<Relations, A::Error> {
    let mut kept = if keep { Vec::with_capacity(16) } else { Vec::new() };
    let mut names = Vec::with_capacity(16);
    while let Some(name) = map.next_key_seed(KeySeed)? {
        if let Some((linkage, pairs)) = map.next_value_seed(RelationshipSeed { keep })? {
            each(&name, linkage)?;
            // What owners are learnt from: the organization, and the ids
            // related (a relationship with none teaches nothing).
            if keep && (!pairs.is_empty() || name == "organization") {
                kept.push((name.clone().into_owned(), pairs));
            }
        }
        // Every name, those without data too: of a repeated one the tree keeps the last.
        names.push(name);
    }
    names.sort_unstable();
    if names.windows(2).any(|pair| pair[0] == pair[1]) {
        return Err(unusual());
    }
    Ok(kept)
}

/// One relationship: its `data`'s linkage (and, with `keep`, the `(type,
/// id)` of its identifiers), or `None` when it has none or is not an object.
struct RelationshipSeed {
    keep: bool,
}

type Relationship = Option<(Linkage, Vec<(String, String)>)>;

seed_of_any!(RelationshipSeed => Relationship);

impl<'de> Visitor<'de> for RelationshipSeed {
    type Value = Relationship;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON:API relationship")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut data = None;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match &*key {
                "data" => once(&mut data, map.next_value_seed(LinkageSeed { keep: self.keep })?)?,
                _ => map.next_value_seed(Skip)?,
            }
        }
        Ok(data)
    }
    non_objects_as_none!();
}

/// A relationship's `data`, read as the tree's flattening reads it
/// ([`Linkage::of`]), and (with `keep`) its identifiers' `(type, id)` when
/// both are strings, as `execute::owners` reads them of a tree.
struct LinkageSeed {
    keep: bool,
}

seed_of_any!(LinkageSeed => (Linkage, Vec<(String, String)>));

impl<'de> Visitor<'de> for LinkageSeed {
    type Value = (Linkage, Vec<(String, String)>);
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON:API resource linkage")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let (mut ids, mut pairs) = (Vec::new(), Vec::new());
        while let Some(identifier) = seq.next_element_seed(IdSeed { keep: self.keep })? {
            ids.extend(identifier.and_then(|i| i.pair_into(&mut pairs)));
        }
        Ok((Linkage::Many(ids), pairs))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let mut pairs = Vec::new();
        let id = IdSeed { keep: self.keep }.visit_map(map)?.and_then(|identifier| identifier.pair_into(&mut pairs));
        Ok((Linkage::One(id.unwrap_or(Value::Null)), pairs))
    }
    scalars_as!(|_| (Linkage::Other, Vec::new()));
}

/// A resource identifier (an object): its `id`, and (kept) its `type` when a string.
struct Identifier {
    id: Option<Value>,
    type_: Option<String>,
}

impl Identifier {
    /// Its id; its `(type, id)` goes to `pairs` when both are strings.
    fn pair_into(self, pairs: &mut Vec<(String, String)>) -> Option<Value> {
        if let (Some(t), Some(Value::String(id))) = (self.type_, &self.id) {
            pairs.push((t, id.clone()));
        }
        self.id
    }
}

/// A resource identifier; `None` for anything but an object.
struct IdSeed {
    keep: bool,
}

seed_of_any!(IdSeed => Option<Identifier>);

impl<'de> Visitor<'de> for IdSeed {
    type Value = Option<Identifier>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON:API resource identifier")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut id, mut type_) = (None, None);
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match &*key {
                "id" => once(&mut id, map.next_value::<Value>()?)?,
                "type" if self.keep => once(&mut type_, map.next_value::<Value>()?)?,
                _ => map.next_value_seed(Skip)?,
            }
        }
        let type_ = match type_ {
            Some(Value::String(t)) => Some(t),
            _ => None,
        };
        Ok(Some(Identifier { id, type_ }))
    }
    non_objects_as_none!();
}

// ---- values ---------------------------------------------------------------------

/// Any value, with every object key snake_case (as `snake_keys_owned`).
struct SnakeValue;

seed_of_any!(SnakeValue => Value);

impl<'de> Visitor<'de> for SnakeValue {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        // Sorted once and built in bulk: inserting one by one searches the tree each time.
        let mut members: Vec<Field> = Vec::with_capacity(map.size_hint().unwrap_or(16));
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let value = map.next_value_seed(SnakeValue)?;
            members.push(Field::new(to_snake(&key), value, ATTRIBUTE));
        }
        members.sort_unstable_by(Field::by_name);
        // Repeated, or two keys with one snake_case name: the tree keeps another.
        if members.windows(2).any(|pair| pair[0].name == pair[1].name) {
            return Err(unusual());
        }
        Ok(Value::Object(members.into_iter().map(|field| (field.name, field.value)).collect()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(SnakeValue)? {
            out.push(item);
        }
        Ok(Value::Array(out))
    }
    scalars_as!(|v| v);
}

fn values<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Vec<Value>, A::Error> {
    let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
    while let Some(item) = seq.next_element::<Value>()? {
        out.push(item);
    }
    Ok(out)
}

/// An object key, borrowed from the text when it has no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// A value read and checked as a tree's parse checks it (numbers, escapes,
/// nesting), and not kept.
struct Skip;

seed_of_any!(Skip => ());

impl<'de> Visitor<'de> for Skip {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key_seed(Skip)?.is_some() {
            map.next_value_seed(Skip)?;
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Skip)?.is_some() {}
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{
        execute::owners::{owners_in, owners_of},
        jsonapi::flatten_document_owned,
    };

    fn grants() -> [Grants; 2] {
        [Grants::NONE, Grants { log_read_types: vec!["plans", "applies"], raw_state: true }]
    }

    /// What the tree path makes of `bytes`, when it flattens it at all.
    fn by_tree(bytes: &[u8], base: Option<&Url>, page: Option<u64>, size: Option<u64>, grants: &Grants) -> Option<Value> {
        let doc = crate::answer_json::parse(bytes).ok().filter(|d| d.get("data").is_some())?;
        Some(flatten_document_owned(doc, base, page, size, grants))
    }

    /// Flattened while parsed, `bytes` gives the tree's value, or `None`.
    /// True when it was flattened while parsed.
    fn agrees(bytes: &[u8]) -> bool {
        let base = Url::parse("https://app.terraform.io/").expect("url");
        let mut fused = false;
        for grants in grants() {
            for (base, page, size) in [(Some(&base), None, None), (None, Some(3), Some(7))] {
                match flatten_text(bytes, base, page, size, &grants) {
                    Some(ours) => {
                        let tree = by_tree(bytes, base, page, size, &grants);
                        assert_eq!(Some(&ours), tree.as_ref(), "{}", String::from_utf8_lossy(bytes));
                        fused = true;
                    }
                    None => assert!(!fused, "flattened while parsed with one set of rules only"),
                }
            }
        }
        fused
    }

    #[test]
    fn field_order_is_the_names_byte_order() {
        let names = ["", "a", "a\0", "a\0b", "ab", "abcdefgh", "abcdefgh\0", "abcdefghi", "abcdefgi", "b", "\u{e9}", "z", "zz_id"];
        for a in names {
            for b in names {
                let (x, y) = (Field::new(a.into(), Value::Null, 0), Field::new(b.into(), Value::Null, 0));
                assert_eq!(x.by_name(&y), a.cmp(b), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn every_recorded_answer_flattens_as_the_tree_does() {
        let mut fused = 0;
        let answers = crate::test_samples::recorded_documents();
        for (name, bytes) in &answers {
            let has_data = crate::answer_json::parse(bytes).ok().is_some_and(|d| d.get("data").is_some());
            let ok = agrees(bytes);
            assert_eq!(ok, has_data, "{name}: flattened while parsed: {ok}, has data: {has_data}");
            fused += usize::from(ok);
        }
        assert!(fused > 100, "{fused} of {} flattened while parsed", answers.len());
    }

    /// The skeleton teaches the owners the whole document teaches, and the
    /// value flattened with it is the same.
    fn skeleton_agrees(bytes: &[u8]) -> bool {
        let Some((flat, skeleton)) = flatten_text_with_skeleton(bytes, None, None, None, &Grants::NONE) else { return false };
        assert_eq!(Some(flat), by_tree(bytes, None, None, None, &Grants::NONE));
        let tree = crate::answer_json::parse(bytes).expect("parsed");
        for scope in [None, Some("scope-org")] {
            let (ours, theirs) = (owners_of(&skeleton, scope), owners_in(&tree, scope));
            assert_eq!(ours, theirs, "{}", String::from_utf8_lossy(bytes));
        }
        true
    }

    #[test]
    fn the_skeleton_teaches_the_same_owners() {
        let mut learned = 0;
        for (name, bytes) in crate::test_samples::recorded_documents() {
            if skeleton_agrees(&bytes) {
                let tree = crate::answer_json::parse(&bytes).expect("parsed");
                learned += usize::from(!owners_in(&tree, None).is_empty());
            } else {
                assert!(flatten_text(&bytes, None, None, None, &Grants::NONE).is_none(), "{name}");
            }
            assert_eq!(
                flatten_text(&bytes, None, None, None, &Grants::NONE).is_some(),
                flatten_text_with_skeleton(&bytes, None, None, None, &Grants::NONE).is_some(),
                "{name}"
            );
        }
        assert!(learned > 20, "{learned} documents teach owners");
        // `included` first, resources that are not objects, linkage without
        // a type, an organization that is not one, an id listed twice.
        let text = r#"{"included":[{"type":"workspaces","id":"ws-2","relationships":{"organization":{"data":{"type":"organizations","id":"o2"}}}}],
            "data":[7,{"id":"run-1","type":"runs","relationships":{
                "organization":{"data":{"id":"o1","type":"organizations"}},
                "workspace":{"data":{"id":"ws-1","type":"workspaces"},"links":{"related":"/x"}},
                "plan":{"data":{"id":"plan-1"}},
                "policy-checks":{"data":[{"id":"pc-1","type":"policy-checks"},{"type":"policy-checks","id":"pc-1"},3,{"type":"policy-checks"},{"type":7,"id":"pc-3"}]},
                "created-by":{"data":null}}},
              {"id":"run-2","type":"runs","relationships":{"organization":{"data":{"id":"o3","type":"teams"}}}}]}"#;
        assert!(skeleton_agrees(text.as_bytes()));
        // A relationship repeated, one copy without data; two of one name hidden
        // behind an attribute of that name: the tree's, never a guess.
        for hidden in [
            r#"{"data":{"id":"run-1","type":"runs","relationships":{"organization":{"data":{"type":"organizations","id":"allowed"}},"organization":{}}}}"#,
            r#"{"data":{"id":"ws-1","type":"workspaces","attributes":{"organization-id":"x","organization-name":"y"},"relationships":{
                "organization":{"data":{"type":"organizations","id":"victim"}},"organization":{"data":{"type":"organizations","id":"mine"}}}}}"#,
            r#"{"data":{"id":"r-1","type":"runs","attributes":{"workspace-id":"x"},"relationships":{
                "workspace":{"data":{"type":"workspaces","id":"ws-victim"}},"workspace":{"data":{"type":"workspaces","id":"ws-mine"}}}}}"#,
            r#"{"data":{"id":"r-1","type":"runs","attributes":{"foo-bar-id":"x"},"relationships":{
                "foo-bar":{"data":{"type":"workspaces","id":"ws-1"}},"foo_bar":{"data":{"type":"workspaces","id":"ws-2"}}}}}"#,
        ] {
            assert!(flatten_text_with_skeleton(hidden.as_bytes(), None, None, None, &Grants::NONE).is_none(), "{hidden}");
            assert!(flatten_text(hidden.as_bytes(), None, None, None, &Grants::NONE).is_none(), "{hidden}");
        }
        // A key repeated in an identifier (a tree keeps the last): the tree's, never a guess.
        let repeated =
            r#"{"data":{"id":"run-1","type":"runs","relationships":{"plan":{"data":{"id":"plan-1","type":"plans","id":"plan-2"}}}}}"#;
        assert!(flatten_text_with_skeleton(repeated.as_bytes(), None, None, None, &Grants::NONE).is_none());
    }

    #[test]
    fn the_same_rules_whatever_the_order_of_members() {
        // `type` after `attributes` (as the simulator and any sorted writer
        // sends it), capability and secret attributes, verbatim values,
        // precedence of the resource's own fields, relationship shapes.
        let resource = json!({
            "attributes": {
                "log-read-url": "https://archivist/x", "hosted-state-download-url": "https://s/x",
                "token": "secret", "name": "n", "type": "attr-type", "web-url": "w", "workspace-id": "attr",
                "value": {"Keep-Me": {"a-b": 1}}, "nested": {"a-b": [{"c-d": null}], "provider[\"x\"]": 2},
                "big": 18446744073709551615u64, "neg": -5, "f": 0.5
            },
            "id": "plan-1",
            "links": {"self": "/api/v2/plans/plan-1", "self-html": "/app/o/plans/1", "inherited-from": "/p/1"},
            "relationships": {
                "organization": {"data": {"id": "org", "type": "organizations"}},
                "workspace": {"data": {"type": "workspaces", "id": "ws-1"}, "links": {"related": "/x"}},
                "state-versions": {"data": [{"id": "sv-1"}, {"type": "t"}, 7, {"id": null}]},
                "policies": {"data": []},
                "current-run": {"data": null},
                "no-data": {"links": {"related": "/y"}},
                "not-object": 3
            },
            "meta": {"ignored": [1, {"x": "é\n\"q\""}]},
            "type": "plans"
        });
        for doc in [
            json!({"data": resource.clone()}),
            json!({"data": [resource.clone(), 5, null, [1]], "included": [resource.clone()], "meta": {"pagination": {"current-page": 2, "next-page": 3, "total-count": 45, "total-pages": 3, "page-size": 20}}}),
            json!({"data": [], "links": {"next": "https://x/api/v2/w?page%5Bnumber%5D=4"}}),
            json!({"data": [resource.clone()], "included": {"not": "a list"}}),
            json!({"data": null, "included": [resource.clone()]}),
            json!({"data": "text"}),
            json!({"jsonapi": {"version": "1.0"}, "data": {"id": "x", "attributes": [1, 2], "relationships": "no"}}),
        ] {
            assert!(agrees(&serde_json::to_vec(&doc).expect("json")), "{doc}");
        }
    }

    #[test]
    fn a_hostile_upstream_cannot_slip_a_secret_or_a_capability_past_the_rules() {
        // Names spelled with escapes, other cases, underscores, repeated:
        // flattened while parsed or by the tree, none of them is kept.
        let text = r#"{"data":[
            {"type":"oauth-tokens","id":"ot-1","attributes":{"tok\u0065n":"s1","SSH_KEY":"s2","private_key":"s3","name":"kept"}},
            {"attributes":{"Secret":"s4","oauth-token-string":"s5"},"type":"oauth-clients","id":"oc-1"},
            {"type":"configuration-versions","id":"cv-1","attributes":{"upload-url":"https://s/w1","Upload_URL":"https://s/w2"}},
            {"type":"plans","id":"plan-1","attributes":{"log-read-url":"https://s/r","hosted-state-download-url":"https://s/st"}}
        ]}"#;
        assert!(agrees(text.as_bytes()));
        let flat = flatten_text(text.as_bytes(), None, None, None, &Grants::NONE).expect("flattened while parsed");
        let written = flat.to_string();
        for secret in ["s1", "s2", "s3", "s4", "s5", "https://s/"] {
            assert!(!written.contains(secret), "{secret} in {written}");
        }
        assert!(written.contains("kept"));
        // Repeated: both are dropped, as the tree drops the one it keeps.
        let repeated = r#"{"data":{"type":"oauth-tokens","attributes":{"token":"s1","token":"s2"}}}"#;
        assert!(agrees(repeated.as_bytes()));
        let flat = flatten_text(repeated.as_bytes(), None, None, None, &Grants::NONE).expect("flattened while parsed");
        assert!(!flat.to_string().contains("s1") && !flat.to_string().contains("s2"));
    }

    #[test]
    fn what_the_tree_would_read_otherwise_goes_to_the_tree() {
        for text in [
            // A repeated key: the tree keeps the last one.
            r#"{"data":{"id":"a","id":"b"}}"#,
            r#"{"data":{"attributes":{"name":"a","name":"b"}}}"#,
            r#"{"data":{"attributes":{"x":{"k":1,"k":2}}}}"#,
            r#"{"data":[],"data":{}}"#,
            // Two names that flatten alike: the tree orders them by name.
            r#"{"data":{"attributes":{"a_b":1,"a-b":2}}}"#,
            r#"{"data":{"attributes":{"x":{"a_b":1,"a-b":2}}}}"#,
            r#"{"data":{"relationships":{"a-b":{"data":null},"a_b":{"data":null}}}}"#,
            // No data, not an object, not JSON, not all of it JSON.
            r#"{"meta":{}}"#,
            r#"[1]"#,
            "{\"data\":{\"id\":\"\u{1}\"}}",
            r#"{"data":{}} x"#,
            r#"{"data":{"attributes":{"n":1e400}}}"#,
            r#"{"data":{"meta":{"n":"\ud800"}}}"#,
            "{\"data\":\"\u{7f}\"",
        ] {
            assert!(!agrees(text.as_bytes()), "{text}");
        }
        assert!(flatten_text(b"{\"data\":\"\xff\"}", None, None, None, &Grants::NONE).is_none());
        // Nesting: the tree's parse refuses past 128 levels, and so does this.
        let deep = format!("{{\"data\":{{\"attributes\":{{\"x\":{}1{}}}}}}}", "[".repeat(200), "]".repeat(200));
        assert!(!agrees(deep.as_bytes()));
        let fine = format!("{{\"data\":{{\"attributes\":{{\"x\":{}1{}}}}}}}", "[".repeat(100), "]".repeat(100));
        assert!(agrees(fine.as_bytes()));
    }
}
