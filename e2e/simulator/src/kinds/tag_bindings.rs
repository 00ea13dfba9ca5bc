//! Seeded key-value tags (served by [`crate::routes::tag_bindings`]):
//! `payment-gateway` is `env:prod` and `costcenter:123`, `core-network`
//! `env:staging`, and acme's default project `dept:r+d`, which its
//! workspaces inherit.

use serde_json::{Map, json};

use crate::records::{Kind, Record};
use crate::seed::{WS_CORE_NETWORK, WS_PAYMENT_GATEWAY};
use crate::store::{Store, Time};

pub const KINDS: &[Kind] = &[];

pub const ACME_DEFAULT_PROJECT: &str = "prj-AcmeDefault0001";

pub fn seed(store: &mut Store, at: Time) {
    for (id, parent, key, value) in [
        ("tb-PaymentEnv000001", WS_PAYMENT_GATEWAY, "env", "prod"),
        ("tb-PaymentCost00001", WS_PAYMENT_GATEWAY, "costcenter", "123"),
        ("tb-CoreNetEnv000001", WS_CORE_NETWORK, "env", "staging"),
        ("tb-AcmeDept00000001", ACME_DEFAULT_PROJECT, "dept", "r+d"),
    ] {
        let mut attributes = Map::new();
        attributes.insert("key".into(), json!(key));
        attributes.insert("value".into(), json!(value));
        store.records.push(Record {
            type_: "tag-bindings",
            id: id.into(),
            parent: parent.into(),
            attributes,
            relationships: Map::new(),
            created_at: at,
        });
    }
}
