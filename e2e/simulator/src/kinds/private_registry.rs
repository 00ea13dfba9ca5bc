//! The private registry, shaped like the modules, providers,
//! provider-versions and no-code-provisioning samples: two acme-corp
//! modules (one enabled for no-code provisioning), one public module, a
//! private provider with versions, and a globex module and no-code module.
//! Lookups by registry/namespace/name and the no-code workspace creation
//! are in [`crate::routes::private_registry`].

use serde_json::json;

use crate::records::{Kind, Ops, Parent, READ_ONLY, Record};
use crate::seed::{ORG, SECOND_ORG};
use crate::store::{Store, Time};

const LIST_ONLY: Ops = Ops { list: true, create: false, show: false, update: false, delete: false };

pub const REGISTRY_MODULE: Kind = Kind {
    ops: READ_ONLY,
    filters: &[("filter[registry_name]", "registry-name"), ("filter[provider]", "provider")],
    ..Kind::new(
        "registry-modules",
        "mod",
        "/organizations/{parent}/registry-modules",
        "/registry-modules/{id}",
        Parent::Organization,
        Some("organization"),
    )
};

pub const REGISTRY_PROVIDER: Kind = Kind {
    ops: LIST_ONLY,
    filters: &[("filter[registry_name]", "registry-name")],
    ..Kind::new(
        "registry-providers",
        "prov",
        "/organizations/{parent}/registry-providers",
        "/registry-providers/{id}",
        Parent::Organization,
        Some("organization"),
    )
};

/// Served by the typed route (the API addresses them by provider name).
pub const PROVIDER_VERSION: Kind = Kind {
    ops: Ops { list: false, create: false, show: false, update: false, delete: false },
    ..Kind::new(
        "registry-provider-versions",
        "provver",
        "/registry-providers/{parent}/versions",
        "/registry-provider-versions/{id}",
        Parent::Record("registry-providers"),
        Some("registry-provider"),
    )
};

pub const NO_CODE_MODULE: Kind = Kind {
    ops: READ_ONLY,
    ..Kind::new(
        "no-code-modules",
        "nocode",
        "/organizations/{parent}/no-code-modules",
        "/no-code-modules/{id}",
        Parent::Organization,
        Some("organization"),
    )
};

pub const KINDS: &[Kind] = &[REGISTRY_MODULE, REGISTRY_PROVIDER, PROVIDER_VERSION, NO_CODE_MODULE];

/// Stored-only: the allowed values of a no-code module's variables.
pub const VARIABLE_OPTIONS: &str = "variable-options";

pub const MOD_VPC: &str = "mod-AcmeVpc00000001";
pub const MOD_BUCKET: &str = "mod-AcmeBucket00001";
pub const MOD_PUBLIC_VPC: &str = "mod-PublicVpc000001";
pub const MOD_GLOBEX: &str = "mod-GlobexApp000001";
pub const PROV_ACME: &str = "prov-AcmeInternal01";
pub const NOCODE_BUCKET: &str = "nocode-AcmeBucket0001";
pub const NOCODE_GLOBEX: &str = "nocode-GlobexApp00001";

pub fn seed(store: &mut Store, at: Time) {
    let module = |id: &str, org: &str, registry: &str, namespace: &str, name: &str, provider: &str, versions: &[&str]| {
        let statuses: Vec<_> = versions.iter().map(|v| json!({"version": v, "status": "ok"})).collect();
        Record::seeded(
            &REGISTRY_MODULE,
            id,
            org,
            json!({"name": name, "namespace": namespace, "provider": provider, "registry-name": registry, "status": "setup_complete",
                   "version-statuses": statuses, "updated-at": "2025-03-01T10:00:00.000Z", "no-code": id == MOD_BUCKET || id == MOD_GLOBEX,
                   "permissions": {"can-delete": true, "can-resync": true, "can-retry": true}}),
            at,
        )
    };
    store.records.push(module(MOD_VPC, ORG, "private", ORG, "vpc", "aws", &["3.2.0", "3.1.0", "2.0.1"]));
    store.records.push(module(MOD_BUCKET, ORG, "private", ORG, "s3-bucket", "aws", &["1.4.0"]));
    store.records.push(module(MOD_PUBLIC_VPC, ORG, "public", "terraform-aws-modules", "vpc", "aws", &[]));
    store.records.push(module(MOD_GLOBEX, SECOND_ORG, "private", SECOND_ORG, "app", "aws", &["0.9.0"]));

    store.records.push(Record::seeded(
        &REGISTRY_PROVIDER,
        PROV_ACME,
        ORG,
        json!({"name": "internal", "namespace": ORG, "registry-name": "private", "updated-at": "2025-03-01T10:00:00.000Z",
               "permissions": {"can-delete": true}}),
        at,
    ));
    for (i, v) in ["1.0.0", "1.1.0", "1.2.0"].iter().enumerate() {
        store.records.push(Record::seeded(
            &PROVIDER_VERSION,
            &format!("provver-AcmeInternal{i:03}"),
            PROV_ACME,
            json!({"version": v, "protocols": ["5.0"], "shasums-uploaded": true, "shasums-sig-uploaded": true,
                   "key-id": "32966F3FB5AC1129", "permissions": {"can-delete": true, "can-upload-asset": true}}),
            at,
        ));
    }

    for (id, org, module) in [(NOCODE_BUCKET, ORG, MOD_BUCKET), (NOCODE_GLOBEX, SECOND_ORG, MOD_GLOBEX)] {
        let option_id = format!("ncvaropt-{}", id.trim_start_matches("nocode-"));
        store.records.push(Record {
            type_: VARIABLE_OPTIONS,
            id: option_id.clone(),
            parent: id.to_string(),
            attributes:
                json!({"variable-name": "region", "variable-type": "string", "options": ["eu-west-1", "eu-central-1", "us-east-1"]})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            relationships: Default::default(),
            created_at: at,
        });
        store.records.push(
            Record::seeded(&NO_CODE_MODULE, id, org, json!({"enabled": true, "version-pin": "1.4.0"}), at)
                .with_rel("registry-module", "registry-modules", module)
                .with_rels("variable-options", VARIABLE_OPTIONS, &[&option_id]),
        );
    }
}
