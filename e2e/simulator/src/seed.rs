//! Seed data, rebuilt on start and on `POST /_sim/reset`.
//!
//! Ids of seeded objects are fixed (written out or derived from a stable
//! seed string) so tests can refer to them; only blob URLs change on reset.

use chrono::{Duration, TimeZone, Utc};
use serde_json::{Value, json};

use crate::ids::{self, derived_id};
use crate::store::{
    BlobRef, Lock, LockHolder, Organization, Phase, Policy, Project, ResourceInstance, Run, RunStatus, StateOutput, StateResource,
    StateVersion, Store, Time, User, Workspace,
};

pub const ORG: &str = "acme-corp";
pub const SECOND_ORG: &str = "globex";

/// The user holding the seeded lock on `payment-gateway`.
pub const DEPLOY_BOT_ID: &str = "user-Hq7TzW3nXc9LbV2m";
pub const DEPLOY_BOT: &str = "deploy-bot";

pub const WS_PAYMENT_GATEWAY: &str = "ws-pQ4mZ8rT2vXy6NbK";
pub const WS_INTERNAL_VPN: &str = "ws-Vn3kR7sLq2Wd9HxA";
pub const WS_FRONTEND_CDN: &str = "ws-Fc8tJ5yNm1Qe4RuG";
pub const WS_CORE_NETWORK: &str = "ws-Cn6wB2pKx9Ls3TdE";
pub const WS_PROD_DATABASE: &str = "ws-Db5hM1qVz7Yc8PfS";
pub const WS_GLOBEX_APP: &str = "ws-Gx2aN6dRk4Uw8JmC";

pub const VPN_PSK: &str = "vpn-psk-9f2c41d8e7a3b065";
pub const DB_PASSWORD: &str = "db-master-4b7e19c2a8d5f360";

const AWS: &str = "provider[\"registry.terraform.io/hashicorp/aws\"]";
const TF_VERSION: &str = "1.9.8";

/// Filler workspaces so that listing needs two pages at the default size.
const FILLER: [(&str, &[&str]); 20] = [
    ("analytics-pipeline", &["data", "prod"]),
    ("auth-service", &["prod", "app"]),
    ("billing-api", &["prod", "payments"]),
    ("ci-runners", &["tooling"]),
    ("data-lake", &["data"]),
    ("dns-zones", &["network"]),
    ("edge-proxy", &["network", "prod"]),
    ("feature-flags", &["app"]),
    ("iam-baseline", &["security"]),
    ("k8s-platform", &["platform", "prod"]),
    ("logging-stack", &["observability"]),
    ("ml-training", &["data", "staging"]),
    ("monitoring", &["observability", "prod"]),
    ("notifications", &["app", "staging"]),
    ("queue-workers", &["app"]),
    ("search-cluster", &["data", "staging"]),
    ("secrets-vault", &["security", "prod"]),
    ("staging-env", &["staging"]),
    ("storage-buckets", &["data"]),
    ("web-frontend-staging", &["web", "staging"]),
];

fn base_time() -> Time {
    Utc.with_ymd_and_hms(2025, 1, 6, 9, 0, 0).single().unwrap_or_else(Utc::now)
}

fn at(days: i64, minutes: i64) -> Time {
    base_time() + Duration::days(days) + Duration::minutes(minutes)
}

/// Builds the seed. `token_users` are the users behind the configured tokens.
pub fn seed(token_users: &[User]) -> Store {
    let mut s = Store::default();
    for (name, email, ext, prj, day) in [
        (ORG, "platform-team@acme-corp.example", "org-Ak3mP9xQw2Rt7YzB", "prj-AcmeDefault0001", 0),
        (SECOND_ORG, "it@globex.example", "org-Gl8bX4cVn6Mq1WsE", "prj-GlobexDefault01", 3),
    ] {
        s.organizations.push(Organization {
            name: name.into(),
            external_id: ext.into(),
            email: email.into(),
            created_at: at(day, 0),
            default_project_id: prj.into(),
        });
        s.projects.push(Project {
            id: prj.into(),
            org: name.into(),
            name: "Default Project".into(),
            description: String::new(),
            created_at: at(day, 0),
        });
    }
    s.users.push(User { id: DEPLOY_BOT_ID.into(), username: DEPLOY_BOT.into(), email: "deploy-bot@acme-corp.example".into() });
    s.users.extend(token_users.iter().cloned());

    let named: [(&str, &str, &[&str], Option<&str>); 5] = [
        (WS_PAYMENT_GATEWAY, "payment-gateway", &["prod", "payments"], Some("Card payment API and its load balancer.")),
        (WS_INTERNAL_VPN, "internal-vpn", &["prod", "network"], Some("Site-to-site VPN between the office and the production VPC.")),
        (WS_FRONTEND_CDN, "frontend-cdn", &["prod", "web"], Some("CDN distribution for the public web frontend.")),
        (WS_CORE_NETWORK, "core-network", &["prod", "network"], Some("Production VPC, subnets and routing.")),
        (WS_PROD_DATABASE, "prod-database-cluster", &["prod", "database"], Some("Aurora PostgreSQL cluster for production.")),
    ];
    for (i, (id, name, tags, desc)) in named.iter().enumerate() {
        s.workspaces.push(workspace(id, ORG, name, tags, desc.map(str::to_string), i as i64));
    }
    for (i, (name, tags)) in FILLER.iter().enumerate() {
        let id = derived_id("ws", &format!("{ORG}/{name}"));
        s.workspaces.push(workspace(&id, ORG, name, tags, None, 10 + i as i64));
    }
    s.workspaces.push(workspace(WS_GLOBEX_APP, SECOND_ORG, "globex-app", &["prod"], Some("Globex main application.".into()), 4));

    // States, each written by a historical applied run.
    add_state(&mut s, WS_INTERNAL_VPN, 7, internal_vpn_outputs(), internal_vpn_resources());
    add_state(&mut s, WS_CORE_NETWORK, 4, core_network_outputs(), core_network_resources());
    add_state(&mut s, WS_PROD_DATABASE, 12, database_outputs(), database_resources());
    add_state(&mut s, WS_PAYMENT_GATEWAY, 23, payment_outputs(), payment_resources());

    // payment-gateway is stuck: locked by another user.
    if let Some(ws) = s.workspace_mut(WS_PAYMENT_GATEWAY) {
        ws.lock = Some(Lock { holder: LockHolder::User(DEPLOY_BOT_ID.into()), reason: "Stuck pipeline".into() });
    }

    s.policies = policies();
    crate::records::seed_all(&mut s, at(1, 0));
    s
}

fn workspace(id: &str, org: &str, name: &str, tags: &[&str], description: Option<String>, day: i64) -> Workspace {
    let project_id = if org == ORG { "prj-AcmeDefault0001" } else { "prj-GlobexDefault01" };
    Workspace {
        id: id.into(),
        org: org.into(),
        name: name.into(),
        description,
        project_id: project_id.into(),
        created_at: at(day, 0),
        updated_at: at(day + 30, 0),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        terraform_version: TF_VERSION.into(),
        auto_apply: false,
        execution_mode: "remote".into(),
        working_directory: None,
        allow_destroy_plan: true,
        lock: None,
        current_state_version: None,
        ssh_key_id: None,
    }
}

fn output(ws_id: &str, name: &str, value: Value, type_expr: Value, sensitive: bool) -> StateOutput {
    StateOutput { id: derived_id("wsout", &format!("{ws_id}/{name}")), name: name.into(), value, type_expr, sensitive }
}

fn resource(type_name: &str, name: &str, attributes: Value) -> StateResource {
    StateResource {
        module: None,
        mode: "managed".into(),
        type_name: type_name.into(),
        name: name.into(),
        provider: AWS.into(),
        instances: vec![ResourceInstance { index_key: None, attributes }],
    }
}

/// Adds an applied run that wrote state `serial` for the workspace and makes
/// that state current.
fn add_state(s: &mut Store, ws_id: &str, serial: u64, outputs: Vec<(&str, Value, Value, bool)>, resources: Vec<StateResource>) {
    let day = 40;
    let created = at(day, 0);
    let run_id = derived_id("run", &format!("{ws_id}/seed-run"));
    let sv_id = derived_id("sv", &format!("{ws_id}/serial-{serial}"));
    let mut plan = Phase::new(derived_id("plan", &run_id), ids::random_alnum(40), created);
    let mut apply = Phase::new(derived_id("apply", &run_id), ids::random_alnum(40), created);
    plan.changes = 1;
    plan.set("queued", "queued-at", at(day, 1));
    plan.set("running", "started-at", at(day, 1));
    plan.set("finished", "finished-at", at(day, 2));
    apply.changes = 1;
    apply.set("queued", "queued-at", at(day, 5));
    apply.set("running", "started-at", at(day, 5));
    apply.set("finished", "finished-at", at(day, 6));
    let mut run = Run {
        id: run_id.clone(),
        workspace_id: ws_id.into(),
        status: RunStatus::Pending,
        message: "Routine configuration update".into(),
        plan_only: false,
        auto_apply: false,
        is_destroy: false,
        refresh: true,
        refresh_only: false,
        allow_empty_apply: false,
        terraform_version: TF_VERSION.into(),
        target_addrs: vec![],
        replace_addrs: vec![],
        source: "tfe-api".into(),
        trigger_reason: "manual".into(),
        created_at: created,
        created_by: Some(DEPLOY_BOT_ID.into()),
        confirmed_by: Some(DEPLOY_BOT_ID.into()),
        status_timestamps: vec![(RunStatus::Pending.timestamp_key(), created)],
        plan,
        apply,
        plan_json_blob: ids::random_alnum(40),
        state_version_id: Some(sv_id.clone()),
    };
    for (status, minute) in [
        (RunStatus::PlanQueued, 1),
        (RunStatus::Planning, 1),
        (RunStatus::Planned, 2),
        (RunStatus::Confirmed, 4),
        (RunStatus::ApplyQueued, 5),
        (RunStatus::Applying, 5),
        (RunStatus::Applied, 6),
    ] {
        run.set_status(status, at(day, minute));
    }
    s.blobs.insert(run.plan.log_blob.clone(), BlobRef::PlanLog(run_id.clone()));
    s.blobs.insert(run.apply.log_blob.clone(), BlobRef::ApplyLog(run_id.clone()));
    s.blobs.insert(run.plan_json_blob.clone(), BlobRef::PlanJson(run_id.clone()));
    s.runs.push(run);

    let sv = StateVersion {
        id: sv_id.clone(),
        workspace_id: ws_id.into(),
        serial,
        lineage: ids::derived_lineage(ws_id),
        terraform_version: TF_VERSION.into(),
        created_at: at(day, 6),
        run_id: Some(run_id),
        created_by: Some(DEPLOY_BOT_ID.into()),
        outputs: outputs.into_iter().map(|(name, value, ty, sensitive)| output(ws_id, name, value, ty, sensitive)).collect(),
        resources,
        state_blob: ids::random_alnum(40),
        json_blob: ids::random_alnum(40),
    };
    s.blobs.insert(sv.state_blob.clone(), BlobRef::State(sv_id.clone()));
    s.blobs.insert(sv.json_blob.clone(), BlobRef::JsonState(sv_id.clone()));
    s.state_versions.push(sv);
    if let Some(ws) = s.workspace_mut(ws_id) {
        ws.current_state_version = Some(sv_id);
    }
}

fn internal_vpn_outputs() -> Vec<(&'static str, Value, Value, bool)> {
    vec![
        ("vpn_encryption_algorithm", json!("AES-128"), json!("string"), false),
        ("vpn_gateway_ip", json!("10.20.0.1"), json!("string"), false),
        ("vpn_psk", json!(VPN_PSK), json!("string"), true),
    ]
}

fn internal_vpn_resources() -> Vec<StateResource> {
    vec![
        resource(
            "aws_vpn_gateway",
            "main",
            json!({
                "id": "vgw-0a3f5c7e9b1d24680", "amazon_side_asn": "64512",
                "vpc_id": "vpc-0c1d2e3f4a5b6c7d8", "tags": {"Name": "internal-vpn"}
            }),
        ),
        resource(
            "aws_customer_gateway",
            "office",
            json!({
                "id": "cgw-04b6d8f0a2c4e6a8b", "bgp_asn": "65000", "ip_address": "203.0.113.10",
                "type": "ipsec.1", "tags": {"Name": "office"}
            }),
        ),
        resource(
            "aws_vpn_connection",
            "office",
            json!({
                "id": "vpn-0e2a4c6e8a0c2e4a6", "customer_gateway_id": "cgw-04b6d8f0a2c4e6a8b",
                "vpn_gateway_id": "vgw-0a3f5c7e9b1d24680", "type": "ipsec.1",
                "tunnel1_address": "10.20.0.1", "tunnel1_phase1_encryption_algorithms": ["AES128"],
                "tunnel1_phase2_encryption_algorithms": ["AES128"], "tunnel1_preshared_key": VPN_PSK,
                "static_routes_only": true
            }),
        ),
    ]
}

fn core_network_outputs() -> Vec<(&'static str, Value, Value, bool)> {
    vec![
        ("vpc_id", json!("vpc-0c1d2e3f4a5b6c7d8"), json!("string"), false),
        ("vpc_cidr", json!("10.20.0.0/16"), json!("string"), false),
        ("private_subnet_ids", json!(["subnet-0a1b2c3d4e5f60718", "subnet-0b2c3d4e5f6071829"]), json!(["list", "string"]), false),
    ]
}

fn core_network_resources() -> Vec<StateResource> {
    let mut subnets = resource("aws_subnet", "private", json!({}));
    subnets.instances = ["subnet-0a1b2c3d4e5f60718", "subnet-0b2c3d4e5f6071829"]
        .iter()
        .enumerate()
        .map(|(i, id)| ResourceInstance {
            index_key: Some(json!(i)),
            attributes: json!({"id": id, "vpc_id": "vpc-0c1d2e3f4a5b6c7d8", "cidr_block": format!("10.20.{}.0/24", 10 + i)}),
        })
        .collect();
    vec![
        resource(
            "aws_vpc",
            "main",
            json!({
                "id": "vpc-0c1d2e3f4a5b6c7d8", "cidr_block": "10.20.0.0/16",
                "enable_dns_hostnames": true, "tags": {"Name": "core"}
            }),
        ),
        subnets,
    ]
}

fn database_outputs() -> Vec<(&'static str, Value, Value, bool)> {
    vec![
        ("cluster_endpoint", json!("prod-db.cluster-c9x7y5z3.eu-west-1.rds.amazonaws.com"), json!("string"), false),
        ("reader_endpoint", json!("prod-db.cluster-ro-c9x7y5z3.eu-west-1.rds.amazonaws.com"), json!("string"), false),
        ("port", json!(5432), json!("number"), false),
        ("master_password", json!(DB_PASSWORD), json!("string"), true),
    ]
}

fn database_resources() -> Vec<StateResource> {
    vec![resource(
        "aws_rds_cluster",
        "main",
        json!({
            "id": "prod-db", "engine": "aurora-postgresql", "engine_version": "15.4",
            "storage_encrypted": true, "master_username": "app", "master_password": DB_PASSWORD,
            "endpoint": "prod-db.cluster-c9x7y5z3.eu-west-1.rds.amazonaws.com", "port": 5432
        }),
    )]
}

fn payment_outputs() -> Vec<(&'static str, Value, Value, bool)> {
    vec![
        ("api_endpoint", json!("https://payments.acme-corp.example"), json!("string"), false),
        ("tls_enabled", json!(true), json!("bool"), false),
    ]
}

fn payment_resources() -> Vec<StateResource> {
    vec![
        resource(
            "aws_lb",
            "payments",
            json!({
                "id": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/payments/50dc6c495c0c9188",
                "name": "payments", "internal": false, "load_balancer_type": "application"
            }),
        ),
        resource(
            "aws_ecs_service",
            "payments",
            json!({
                "id": "arn:aws:ecs:eu-west-1:123456789012:service/prod/payments", "name": "payments",
                "desired_count": 3, "launch_type": "FARGATE"
            }),
        ),
    ]
}

fn policies() -> Vec<Policy> {
    let p = |id: &str, name: &str, desc: &str, kind: &str, query: Option<&str>, level: &str, sets: &[&str], day: i64| Policy {
        id: id.into(),
        org: ORG.into(),
        name: name.into(),
        description: Some(desc.into()),
        kind: kind.into(),
        query: query.map(str::to_string),
        enforcement_level: level.into(),
        policy_set_ids: sets.iter().map(|s| s.to_string()).collect(),
        updated_at: at(day, 0),
    };
    vec![
        p(
            "pol-Ek2nW8rY4tBq6ZxM",
            "require-encryption-aes256",
            "VPN tunnels, volumes and databases must use AES-256 encryption.",
            "sentinel",
            None,
            "hard-mandatory",
            &["polset-Sec1xY7pQ3rV5nWa"],
            20,
        ),
        p(
            "pol-Rs5tH9kL3mCv7BnQ",
            "restrict-instance-types",
            "Only approved EC2 and RDS instance families may be used.",
            "sentinel",
            None,
            "soft-mandatory",
            &["polset-Sec1xY7pQ3rV5nWa", "polset-Cost4gH8jK2mN6pR"],
            21,
        ),
        p(
            "pol-Tg3sD7fJ1kVx5LmP",
            "tagging-standards",
            "Resources should carry owner, cost-center and environment tags.",
            "opa",
            Some("data.terraform.policies.tagging.deny"),
            "advisory",
            &["polset-Cost4gH8jK2mN6pR"],
            22,
        ),
        p(
            "pol-Ip6uF2hN8qWz4YcR",
            "deny-public-ingress",
            "Security groups must not allow ingress from 0.0.0.0/0.",
            "opa",
            Some("data.terraform.policies.ingress.deny"),
            "mandatory",
            &["polset-Sec1xY7pQ3rV5nWa"],
            23,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_shape() {
        let s = seed(&[]);
        assert_eq!(s.workspaces.iter().filter(|w| w.org == ORG).count(), 25);
        assert_eq!(s.workspaces.iter().filter(|w| w.org == SECOND_ORG).count(), 1);
        let vpn = s.workspace_by_name(ORG, "internal-vpn").unwrap();
        let sv = s.current_state_version(&vpn.id).unwrap();
        assert!(sv.outputs.iter().any(|o| o.name == "vpn_psk" && o.sensitive));
        assert!(s.workspace(WS_PAYMENT_GATEWAY).unwrap().lock.is_some());
        // Seeded ids are stable across resets.
        assert_eq!(seed(&[]).state_versions[0].id, s.state_versions[0].id);
        // Every workspace name is unique within its organization.
        let mut names: Vec<_> = s.workspaces.iter().map(|w| (&w.org, &w.name)).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), s.workspaces.len());
    }
}
