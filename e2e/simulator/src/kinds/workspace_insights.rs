//! What a workspace manages and shares: managed resources (the
//! workspace-resources samples; `core-network` manages 500 of them),
//! assessment results (drift on `core-network`, none on `internal-vpn`),
//! a README, and remote state consumers. The behaviour beyond CRUD
//! (consumer changes, assessment outputs, `include=readme`) is in
//! [`crate::routes::workspace_insights`].

use serde_json::{Value, json};

use crate::ids::derived_id;
use crate::records::{Kind, Ops, Parent, Record};
use crate::seed::{ORG, WS_CORE_NETWORK, WS_FRONTEND_CDN, WS_INTERNAL_VPN, WS_PAYMENT_GATEWAY};
use crate::store::{BlobRef, Store, Time};

const LIST_ONLY: Ops = Ops { list: true, create: false, show: false, update: false, delete: false };
const SHOW_ONLY: Ops = Ops { list: false, create: false, show: true, update: false, delete: false };

pub const WORKSPACE_RESOURCE: Kind = Kind {
    ops: LIST_ONLY,
    ..Kind::new("resources", "wsr", "/workspaces/{parent}/resources", "/workspaces/{parent}/resources/{id}", Parent::Workspace, None)
};

pub const ASSESSMENT_RESULT: Kind = Kind {
    ops: SHOW_ONLY,
    // Where the outputs live: bookkeeping, never rendered.
    write_only: &["json-blob", "log-blob", "resources-drifted"],
    ..Kind::new(
        "assessment-results",
        "asmtres",
        "/workspaces/{parent}/assessment-results",
        "/assessment-results/{id}",
        Parent::Workspace,
        None,
    )
};

pub const KINDS: &[Kind] = &[WORKSPACE_RESOURCE, ASSESSMENT_RESULT];

/// Stored-only types (no endpoint of their own).
pub const README: &str = "workspace-readme";
pub const CONSUMERS: &str = "remote-state-consumer-lists";

/// Seeded ids, fixed so tests can name them.
pub const ASMT_CORE_NETWORK: &str = "asmtres-CoreNetDrift001";
pub const ASMT_INTERNAL_VPN: &str = "asmtres-VpnNoDrift0001";
/// Resources `core-network` manages.
pub const CORE_NETWORK_RESOURCES: usize = 500;

pub fn seed(store: &mut Store, at: Time) {
    // Some workspaces lag behind on Terraform (what the Explorer finds).
    for (name, version) in [("ci-runners", "1.5.7"), ("search-cluster", "1.5.7"), ("ml-training", "1.3.9")] {
        let id = store.workspace_by_name(ORG, name).map(|w| w.id.clone());
        if let Some(ws) = id.and_then(|id| store.workspace_mut(&id)) {
            ws.terraform_version = version.into();
        }
    }
    let sv = store.current_state_version(WS_CORE_NETWORK).map(|s| s.id.clone()).unwrap_or_default();
    let types = [("aws_subnet", "subnet"), ("aws_route_table", "rt"), ("aws_security_group_rule", "sgr"), ("aws_network_acl_rule", "nacl")];
    for i in 0..CORE_NETWORK_RESOURCES {
        let (ty, stem) = types[i % types.len()];
        let name = format!("{stem}_{i:03}");
        let module = if i % 5 == 0 { "module.vpc" } else { "root" };
        let address = if module == "root" { format!("{ty}.{name}") } else { format!("{module}.{ty}.{name}") };
        store.records.push(Record::seeded(
            &WORKSPACE_RESOURCE,
            &derived_id("wsr", &format!("{WS_CORE_NETWORK}/{address}")),
            WS_CORE_NETWORK,
            json!({"address": address, "name": name, "created-at": "2025-02-15", "updated-at": "2025-02-15",
                   "module": module, "provider": "hashicorp/aws", "provider-type": ty,
                   "modified-by-state-version-id": sv, "name-index": null}),
            at,
        ));
    }
    for (ws, address, ty) in [
        (WS_PAYMENT_GATEWAY, "aws_lb.payments", "aws_lb"),
        (WS_PAYMENT_GATEWAY, "aws_ecs_service.api", "aws_ecs_service"),
        (WS_INTERNAL_VPN, "aws_vpn_connection.office", "aws_vpn_connection"),
    ] {
        let name = address.rsplit('.').next().unwrap_or(address);
        store.records.push(Record::seeded(
            &WORKSPACE_RESOURCE,
            &derived_id("wsr", &format!("{ws}/{address}")),
            ws,
            json!({"address": address, "name": name, "created-at": "2025-02-15", "updated-at": "2025-02-15", "module": "root",
                   "provider": "hashicorp/aws", "provider-type": ty, "modified-by-state-version-id": null, "name-index": null}),
            at,
        ));
    }

    for (id, ws, drifted, plan, log) in [
        (ASMT_CORE_NETWORK, WS_CORE_NETWORK, true, drifted_plan(), drifted_log()),
        (
            ASMT_INTERNAL_VPN,
            WS_INTERNAL_VPN,
            false,
            json!({"format_version": "1.2", "terraform_version": "1.9.8", "resource_drift": []}),
            quiet_log(),
        ),
    ] {
        let json_blob = derived_id("blob", &format!("{id}/json"));
        let log_blob = derived_id("blob", &format!("{id}/log"));
        store.blobs.insert(json_blob.clone(), BlobRef::Fixed { content_type: "application/json", body: plan.to_string() });
        store.blobs.insert(log_blob.clone(), BlobRef::Fixed { content_type: "application/json", body: log });
        store.records.push(Record::seeded(
            &ASSESSMENT_RESULT,
            id,
            ws,
            json!({"drifted": drifted, "succeeded": true, "error-msg": null, "resources-drifted": if drifted { 3 } else { 0 },
                   "json-blob": json_blob, "log-blob": log_blob}),
            at,
        ));
    }

    store.records.push(Record {
        type_: README,
        id: "227247".into(),
        parent: WS_CORE_NETWORK.into(),
        attributes: json!({"raw-markdown": "# core-network\n\nProduction VPC, subnets and routing. Owned by the platform team; changes need a review in #netops.\n"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        relationships: Default::default(),
        created_at: at,
    });
    // frontend-cdn reads payment-gateway's outputs.
    let consumers = Record {
        type_: CONSUMERS,
        id: format!("rsc-{WS_PAYMENT_GATEWAY}"),
        parent: WS_PAYMENT_GATEWAY.into(),
        attributes: Default::default(),
        relationships: Default::default(),
        created_at: at,
    }
    .with_rels("workspaces", "workspaces", &[WS_FRONTEND_CDN]);
    store.records.push(consumers);
}

fn drifted_plan() -> Value {
    json!({
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "resource_drift": [
            {"address": "aws_security_group_rule.sgr_002", "mode": "managed", "type": "aws_security_group_rule", "name": "sgr_002",
             "provider_name": "registry.terraform.io/hashicorp/aws",
             "change": {"actions": ["update"], "before": {"cidr_blocks": ["10.0.0.0/16"], "from_port": 443, "description": "https"},
                        "after": {"cidr_blocks": ["0.0.0.0/0"], "from_port": 443, "description": "opened by hand"}}},
            {"address": "aws_route_table.rt_001", "mode": "managed", "type": "aws_route_table", "name": "rt_001",
             "change": {"actions": ["update"], "before": {"tags": {"Name": "rt-1"}}, "after": {"tags": {"Name": "rt-1", "Owner": "someone"}}}},
            {"address": "module.vpc.aws_subnet.subnet_000", "module_address": "module.vpc", "mode": "managed", "type": "aws_subnet", "name": "subnet_000",
             "change": {"actions": ["delete"], "before": {"cidr_block": "10.0.0.0/24"}, "after": null}},
        ],
        "checks": [
            {"address": {"kind": "check", "to_display": "check.vpn_endpoint"}, "status": "fail",
             "instances": [{"address": {"to_display": "check.vpn_endpoint"}, "status": "fail",
                            "problems": [{"message": "VPN endpoint answered 503 Service Unavailable"}]}]},
            {"address": {"kind": "resource", "to_display": "aws_subnet.subnet_004"}, "status": "pass"},
        ],
    })
}

fn log_line(level: &str, message: &str) -> String {
    json!({"@level": level, "@message": message, "@module": "terraform.ui", "@timestamp": "2025-02-20T03:00:01.000000Z"}).to_string()
}

fn drifted_log() -> String {
    [
        log_line("info", "Terraform 1.9.8"),
        log_line("info", "aws_security_group_rule.sgr_002: Refreshing state... [id=sgrule-1]"),
        log_line("warn", "Objects have changed outside of Terraform"),
        log_line("error", "\u{1b}[31mcheck.vpn_endpoint: VPN endpoint answered 503 Service Unavailable\u{1b}[0m"),
    ]
    .join("\n")
        + "\n"
}

fn quiet_log() -> String {
    [log_line("info", "Terraform 1.9.8"), log_line("info", "No changes. Your infrastructure still matches the configuration.")].join("\n")
        + "\n"
}

/// The latest assessment result of a workspace, for its
/// `current-assessment-result` relationship.
pub fn current_assessment(store: &Store, ws_id: &str) -> Option<String> {
    store
        .records
        .iter()
        .filter(|r| r.type_ == ASSESSMENT_RESULT.type_ && r.parent == ws_id)
        .max_by_key(|r| r.created_at)
        .map(|r| r.id.clone())
}

/// The README record of a workspace.
pub fn readme<'s>(store: &'s Store, ws_id: &str) -> Option<&'s Record> {
    store.records.iter().find(|r| r.type_ == README && r.parent == ws_id)
}
