//! A workspace with a state history to roll back (no generic kinds): two
//! state versions of `k8s-platform`, the newer one current. Rolling back is
//! behaviour, in [`crate::routes::state_rollback`].

use serde_json::json;

use crate::ids::{derived_id, derived_lineage, random_alnum};
use crate::records::Kind;
use crate::seed::{DEPLOY_BOT_ID, ORG};
use crate::store::{BlobRef, ResourceInstance, StateResource, StateVersion, Store, Time};

pub const KINDS: &[Kind] = &[];

/// The workspace with a state history.
pub fn workspace() -> String {
    derived_id("ws", &format!("{ORG}/k8s-platform"))
}

/// Its state version of `serial` (1: the older one, 2: the current one).
pub fn state_version_id(serial: u64) -> String {
    derived_id("sv", &format!("{}/serial-{serial}", workspace()))
}

pub fn seed(store: &mut Store, at: Time) {
    let ws = workspace();
    for (serial, node_count) in [(1u64, 3), (2, 6)] {
        let sv = StateVersion {
            id: state_version_id(serial),
            workspace_id: ws.clone(),
            serial,
            lineage: derived_lineage(&ws),
            terraform_version: "1.9.8".into(),
            created_at: at + chrono::Duration::days(serial as i64),
            run_id: None,
            created_by: Some(DEPLOY_BOT_ID.into()),
            outputs: vec![],
            resources: vec![StateResource {
                module: None,
                mode: "managed".into(),
                type_name: "aws_eks_node_group".into(),
                name: "workers".into(),
                provider: "provider[\"registry.terraform.io/hashicorp/aws\"]".into(),
                instances: vec![ResourceInstance {
                    index_key: None,
                    attributes: json!({"id": "platform:workers", "scaling_config": [{"desired_size": node_count}]}),
                }],
            }],
            state_blob: random_alnum(40),
            json_blob: random_alnum(40),
        };
        store.blobs.insert(sv.state_blob.clone(), BlobRef::State(sv.id.clone()));
        store.blobs.insert(sv.json_blob.clone(), BlobRef::JsonState(sv.id.clone()));
        store.state_versions.push(sv);
    }
    if let Some(w) = store.workspace_mut(&ws) {
        w.current_state_version = Some(state_version_id(2));
    }
}
