//! Variable sets (`/organizations/:org/varsets`, `/varsets/:id`), their
//! variables (`/varsets/:id/relationships/vars`) and the workspaces and
//! projects they apply to, shaped like the variable-sets samples. A
//! sensitive variable's value is never returned. The computed listings of
//! the sets applied to a workspace or project are in
//! [`crate::routes::varset_scopes`].

use serde_json::{Value, json};

use crate::records::{Kind, Parent, Record, RelationshipList};
use crate::seed::{ORG, SECOND_ORG, WS_GLOBEX_APP, WS_PAYMENT_GATEWAY};
use crate::store::{Store, Time};

pub const VARSET: Kind = Kind {
    required: &["name"],
    unique: Some("name"),
    defaults: varset_defaults,
    ..Kind::new("varsets", "varset", "/organizations/{parent}/varsets", "/varsets/{id}", Parent::Organization, Some("organization"))
};

pub const VARSET_VARIABLE: Kind = Kind {
    required: &["key", "category"],
    unique: Some("key"),
    masked_when: Some(("sensitive", "value")),
    defaults: super::variables::variable_defaults,
    ..Kind::new(
        "vars",
        "var",
        "/varsets/{parent}/relationships/vars",
        "/varsets/{parent}/relationships/vars/{id}",
        Parent::Record("varsets"),
        Some("varset"),
    )
};

pub const KINDS: &[Kind] = &[VARSET, VARSET_VARIABLE];

pub const RELATIONSHIP_LISTS: &[RelationshipList] = &[
    RelationshipList { path: "/varsets/{id}/relationships/workspaces", owner_type: "varsets", rel: "workspaces", item_type: "workspaces" },
    RelationshipList { path: "/varsets/{id}/relationships/projects", owner_type: "varsets", rel: "projects", item_type: "projects" },
];

fn varset_defaults() -> Value {
    json!({"description": null, "global": false, "priority": false})
}

/// Seeded ids and secrets, fixed so tests can name them.
pub const VARSET_AWS: &str = "varset-AcmeAws000000001";
pub const VARSET_ACME_PROJECT: &str = "varset-AcmeProject00001";
pub const VARSET_GLOBEX: &str = "varset-GlobexShared0001";
pub const VAR_AWS_KEY_ID: &str = "var-AcmeAwsKeyId00001";
pub const VAR_AWS_SECRET: &str = "var-AcmeAwsSecret0001";
pub const VAR_GLOBEX_TOKEN: &str = "var-GlobexToken000001";
/// Values of the seeded sensitive set variables: never in any answer.
pub const AWS_SECRET_ACCESS_KEY: &str = "varset-secret-7c1e5a9b3d2f4068";
pub const GLOBEX_API_TOKEN: &str = "varset-secret-globex-52d8e0a1";

const ACME_PROJECT: &str = "prj-AcmeDefault0001";

pub fn seed(store: &mut Store, at: Time) {
    let set = |id: &str, org: &str, attrs: Value| Record::seeded(&VARSET, id, org, attrs, at);
    store.records.push(
        set(VARSET_AWS, ORG, json!({"name": "aws-credentials", "description": "AWS credentials for production workspaces"}))
            .with_rel("parent", "organizations", ORG)
            .with_rels("workspaces", "workspaces", &[WS_PAYMENT_GATEWAY])
            .with_rels("projects", "projects", &[]),
    );
    store.records.push(
        set(VARSET_ACME_PROJECT, ORG, json!({"name": "default-project-settings", "description": "Owned by the default project"}))
            .with_rel("parent", "projects", ACME_PROJECT)
            .with_rels("workspaces", "workspaces", &[])
            .with_rels("projects", "projects", &[ACME_PROJECT]),
    );
    store.records.push(
        set(VARSET_GLOBEX, SECOND_ORG, json!({"name": "globex-shared"}))
            .with_rel("parent", "organizations", SECOND_ORG)
            .with_rels("workspaces", "workspaces", &[WS_GLOBEX_APP])
            .with_rels("projects", "projects", &[]),
    );
    let var = |id: &str, set: &str, attrs: Value| Record::seeded(&VARSET_VARIABLE, id, set, attrs, at);
    store.records.push(var(
        VAR_AWS_KEY_ID,
        VARSET_AWS,
        json!({"key": "AWS_ACCESS_KEY_ID", "value": "AKIAEXAMPLE0000001", "category": "env"}),
    ));
    store.records.push(var(
        VAR_AWS_SECRET,
        VARSET_AWS,
        json!({"key": "AWS_SECRET_ACCESS_KEY", "value": AWS_SECRET_ACCESS_KEY, "category": "env", "sensitive": true}),
    ));
    store.records.push(var(
        "var-AcmeProjectRegion1",
        VARSET_ACME_PROJECT,
        json!({"key": "region", "value": "eu-west-1", "category": "terraform"}),
    ));
    store.records.push(var(
        VAR_GLOBEX_TOKEN,
        VARSET_GLOBEX,
        json!({"key": "GLOBEX_API_TOKEN", "value": GLOBEX_API_TOKEN, "category": "env", "sensitive": true}),
    ));
}
