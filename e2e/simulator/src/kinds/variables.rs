//! Workspace variables (`/workspaces/:id/vars`), shaped like the
//! workspace-variables samples: a sensitive variable's value is never
//! returned.

use serde_json::{Value, json};

use crate::records::{Kind, Parent, Record};
use crate::seed::{VPN_PSK, WS_INTERNAL_VPN, WS_PAYMENT_GATEWAY};
use crate::store::{Store, Time};

pub const WORKSPACE_VARIABLE: Kind = Kind {
    required: &["key", "category"],
    unique: Some("key"),
    masked_when: Some(("sensitive", "value")),
    defaults: variable_defaults,
    ..Kind::new("vars", "var", "/workspaces/{parent}/vars", "/workspaces/{parent}/vars/{id}", Parent::Workspace, Some("configurable"))
};

pub const KINDS: &[Kind] = &[WORKSPACE_VARIABLE];

pub fn variable_defaults() -> Value {
    json!({"value": "", "description": null, "sensitive": false, "hcl": false, "version-id": "1"})
}

/// Seeded variable ids, fixed so tests can name them.
pub const VAR_REGION: &str = "var-PgRegion0000001";
pub const VAR_VPN_PSK: &str = "var-VpnPsk00000001";

pub fn seed(store: &mut Store, at: Time) {
    let kind = &WORKSPACE_VARIABLE;
    store.records.push(Record::seeded(
        kind,
        VAR_REGION,
        WS_PAYMENT_GATEWAY,
        json!({"key": "region", "value": "eu-west-1", "category": "terraform", "description": "AWS region"}),
        at,
    ));
    store.records.push(Record::seeded(
        kind,
        VAR_VPN_PSK,
        WS_INTERNAL_VPN,
        json!({"key": "vpn_psk", "value": VPN_PSK, "category": "terraform", "sensitive": true}),
        at,
    ));
}
