//! Teams, organization memberships and team access to projects
//! (`team-projects`), shaped like the teams, organization-memberships and
//! project-team-access samples. Team members are changed by
//! [`crate::routes::team_members`] (the users relationship takes usernames).

use serde_json::{Value, json};

use crate::records::{CRUD, Kind, Ops, Parent, Record};
use crate::seed::{ORG, SECOND_ORG};
use crate::store::{Store, Time, User};

pub const TEAM: Kind = Kind {
    required: &["name"],
    unique: Some("name"),
    defaults: team_defaults,
    ..Kind::new("teams", "team", "/organizations/{parent}/teams", "/teams/{id}", Parent::Organization, Some("organization"))
};

/// Invitations by email; no update (the API has none).
pub const MEMBERSHIP: Kind = Kind {
    ops: Ops { update: false, ..CRUD },
    required: &["email"],
    unique: Some("email"),
    defaults: membership_defaults,
    search: &["email", "username"],
    filters: &[("filter[status]", "status"), ("filter[email]", "email")],
    ..Kind::new(
        "organization-memberships",
        "ou",
        "/organizations/{parent}/organization-memberships",
        "/organization-memberships/{id}",
        Parent::Organization,
        Some("organization"),
    )
};

/// `GET /team-projects?filter[project][id]=...`, `POST /team-projects`.
pub const TEAM_PROJECT: Kind = Kind {
    required: &["access"],
    defaults: team_project_defaults,
    parent_query: Some("filter[project][id]"),
    ..Kind::new("team-projects", "tprj", "/team-projects", "/team-projects/{id}", Parent::Project, Some("project"))
};

pub const KINDS: &[Kind] = &[TEAM, MEMBERSHIP, TEAM_PROJECT];

fn team_defaults() -> Value {
    json!({"visibility": "secret", "users-count": 0, "sso-team-id": null, "allow-member-token-management": true,
           "organization-access": {"manage-workspaces": false, "manage-projects": false, "read-projects": false, "read-workspaces": false}})
}

fn membership_defaults() -> Value {
    json!({"status": "invited"})
}

fn team_project_defaults() -> Value {
    json!({"project-access": {"settings": "read", "teams": "none"},
           "workspace-access": {"create": false, "move": false, "locking": false, "delete": false, "runs": "read",
                                "variables": "read", "state-versions": "read", "sentinel-mocks": "none", "run-tasks": false}})
}

/// Seeded ids, fixed so tests can name them.
pub const TEAM_ACME_OWNERS: &str = "team-AcmeOwners000001";
pub const TEAM_ACME_PLATFORM: &str = "team-AcmePlatform00001";
pub const TEAM_GLOBEX_OWNERS: &str = "team-GlobexOwners00001";
pub const USER_ALICE: &str = "user-Alice000000000001";
pub const USER_GINA: &str = "user-Gina0000000000001";
pub const OU_ALICE: &str = "ou-AcmeAlice000000001";
pub const OU_DEPLOY_BOT: &str = "ou-AcmeDeployBot00001";
pub const OU_GINA: &str = "ou-GlobexGina00000001";
pub const TPRJ_ACME_PLATFORM: &str = "tprj-AcmePlatform00001";

pub fn seed(store: &mut Store, at: Time) {
    store.users.push(User { id: USER_ALICE.into(), username: "alice".into(), email: "alice@acme-corp.example".into() });
    store.users.push(User { id: USER_GINA.into(), username: "gina".into(), email: "gina@globex.example".into() });
    let team = |id: &str, org: &str, name: &str, users: &[&str]| {
        Record::seeded(&TEAM, id, org, json!({"name": name, "users-count": users.len()}), at).with_rels("users", "users", users)
    };
    store.records.push(team(TEAM_ACME_OWNERS, ORG, "owners", &[crate::seed::DEPLOY_BOT_ID]));
    store.records.push(team(TEAM_ACME_PLATFORM, ORG, "platform", &[USER_ALICE]));
    store.records.push(team(TEAM_GLOBEX_OWNERS, SECOND_ORG, "owners", &[USER_GINA]));
    let membership = |id: &str, org: &str, user: &str, username: &str, email: &str, teams: &[&str]| {
        Record::seeded(&MEMBERSHIP, id, org, json!({"status": "active", "email": email, "username": username}), at)
            .with_rel("user", "users", user)
            .with_rels("teams", "teams", teams)
    };
    store.records.push(membership(OU_ALICE, ORG, USER_ALICE, "alice", "alice@acme-corp.example", &[TEAM_ACME_PLATFORM]));
    store.records.push(membership(
        OU_DEPLOY_BOT,
        ORG,
        crate::seed::DEPLOY_BOT_ID,
        crate::seed::DEPLOY_BOT,
        "deploy-bot@acme-corp.example",
        &[TEAM_ACME_OWNERS],
    ));
    store.records.push(membership(OU_GINA, SECOND_ORG, USER_GINA, "gina", "gina@globex.example", &[TEAM_GLOBEX_OWNERS]));
    store.records.push(
        Record::seeded(&TEAM_PROJECT, TPRJ_ACME_PLATFORM, "prj-AcmeDefault0001", json!({"access": "maintain"}), at).with_rel(
            "team",
            "teams",
            TEAM_ACME_PLATFORM,
        ),
    );
}
