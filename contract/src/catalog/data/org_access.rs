//! Who is in an organization and what they may do: organization
//! memberships (invitations by email), team members, and team access to
//! projects (`team-projects`).

use super::relationship_action;
use crate::catalog::{Body, Handler, Kind as K, Method as M, Param as P, ToolSpec, Verb as V};

const PROJECT_ACCESS_LEVELS: &[&str] = &["read", "write", "maintain", "admin", "custom"];

fn org() -> P {
    P::path("organization_name", "Name of the HCP Terraform organization (e.g. `acme-corp`).")
}
fn team_id() -> P {
    P::path("team_id", "Team id (`team-...`). Find it with list_all_hashicorp_terraform_cloud_teams.")
}
fn membership_id() -> P {
    P::path("organization_membership_id", "Organization membership id (`ou-...`).")
}
fn tprj_id() -> P {
    P::path("project_team_access_id", "Project team access id (`tprj-...`).")
}

fn project_access_settings() -> Vec<P> {
    vec![
        P::attr("access", "access", K::String, "Access level; `custom` uses project_access and workspace_access.")
            .one_of(PROJECT_ACCESS_LEVELS),
        P::attr(
            "project_access",
            "project-access",
            K::Object,
            "Custom: project permissions, e.g. {settings: read|update|delete, teams: none|read|manage, variable_sets: none|read|write}.",
        ),
        P::attr(
            "workspace_access",
            "workspace-access",
            K::Object,
            "Custom: permissions on the project's workspaces, e.g. {runs: read|plan|apply, variables: none|read|write, state_versions: none|read-outputs|read|write, sentinel_mocks: none|read, create: bool, locking: bool, move: bool, delete: bool, run_tasks: bool}.",
        ),
    ]
}

#[allow(clippy::vec_init_then_push)] // one `push` per catalog entry reads best
pub(super) fn tools() -> Vec<ToolSpec> {
    let mut t = Vec::new();

    // ---- organization memberships
    t.push(
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_organization_memberships",
            M::List,
            "organization-memberships",
            "List organization memberships",
            V::Get,
            "/organizations/{organization_name}/organization-memberships",
            "List the members and pending invitations of an organization (membership id `ou-...`, status, user_id, team_ids).",
        )
        .params(vec![
            org(),
            P::query("search_query", "q", K::String, "Search by username or email."),
            P::query("filter_status", "filter[status]", K::String, "Only memberships with this status.").one_of(&["invited", "active"]),
            P::query("filter_email", "filter[email]", K::String, "Comma-separated exact email addresses."),
        ]),
    );
    t.push(
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_org_membership_by_id",
            M::Get,
            "organization-memberships",
            "Show an organization membership",
            V::Get,
            "/organization-memberships/{organization_membership_id}",
            "Show one organization membership: status (invited or active), user and teams.",
        )
        .params(vec![membership_id()]),
    );
    t.push(
        ToolSpec::new(
            "create_a_hashicorp_terraform_cloud_organization_membership",
            M::Create,
            "organization-memberships",
            "Invite a user to an organization",
            V::Post,
            "/organizations/{organization_name}/organization-memberships",
            "Invite someone to an organization by email, optionally straight into teams; they join when they accept the emailed invitation.",
        )
        .params(vec![
            org(),
            P::attr("email", "email", K::String, "Email address to invite.").required(),
            P::rels("team_ids", "teams", "teams", "Teams (`team-...`) to add the user to."),
        ])
        .body(Body::Resource("organization-memberships")),
    );
    t.push(
        ToolSpec::new(
            "delete_a_hashicorp_terraform_cloud_organization_membership_by_id",
            M::Delete,
            "organization-memberships",
            "Remove a user from an organization",
            V::Delete,
            "/organization-memberships/{organization_membership_id}",
            "Remove a member from the organization (or withdraw an invitation): they lose every team and all access to it.",
        )
        .params(vec![membership_id()]),
    );

    // ---- team members
    let users_params = || {
        vec![
            team_id(),
            P::local("usernames", K::StringList, "Usernames (the `username` of a user, e.g. `alice`)."),
            P::local("user_ids", K::StringList, "User ids (`user-...`), looked up to their usernames."),
        ]
    };
    t.push(
        ToolSpec::new(
            "hashicorp_terraform_cloud_teams_add_users",
            M::Custom,
            "teams",
            "Add users to a team",
            V::Post,
            "/teams/{team_id}/relationships/users",
            "Add organization members to a team by username or user id. People not yet in the organization: invite them with create_a_hashicorp_terraform_cloud_organization_membership, or use hashicorp_terraform_cloud_teams_add_memberships.",
        )
        .params(users_params())
        .handler(Handler::TeamUsers),
    );
    t.push(
        ToolSpec::new(
            "hashicorp_terraform_cloud_teams_remove_users",
            M::Custom,
            "teams",
            "Remove users from a team",
            V::Delete,
            "/teams/{team_id}/relationships/users",
            "Remove users from a team by username or user id (they stay in the organization).",
        )
        .params(users_params())
        .handler(Handler::TeamUsers)
        .destructive(),
    );
    for (name, title, verb, path, list_desc, desc) in [
        (
            "hashicorp_terraform_cloud_teams_add_memberships",
            "Add organization memberships to a team",
            V::Post,
            "/teams/{team_id}/relationships/organization-memberships",
            "Organization membership ids (`ou-...`) from list_all_hashicorp_terraform_cloud_organization_memberships.",
            "Add people to a team by organization membership id; works for invited users who have not accepted yet.",
        ),
        (
            "hashicorp_terraform_cloud_teams_remove_memberships",
            "Remove organization memberships from a team",
            V::Delete,
            "/teams/{team_id}/relationships/organization-memberships",
            "Organization membership ids (`ou-...`) to remove from the team.",
            "Remove people from a team by organization membership id (they stay in the organization).",
        ),
    ] {
        let (list, ty) = ("organization_membership_ids", "organization-memberships");
        t.push(relationship_action(name, "teams", title, verb, path, team_id(), list, ty, list_desc, desc));
    }

    // ---- project team access (team-projects)
    t.push(
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_project_team_accesses",
            M::List,
            "team-access",
            "List team access to a project",
            V::Get,
            "/team-projects",
            "List which teams can access a project, and how.",
        )
        .params(vec![P::query("project_id", "filter[project][id]", K::String, "Project id (`prj-...`).").required()]),
    );
    t.push(
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_project_team_access_by_id",
            M::Get,
            "team-access",
            "Show team access to a project",
            V::Get,
            "/team-projects/{project_team_access_id}",
            "Show one team's access to a project (access level, project and workspace permissions).",
        )
        .params(vec![tprj_id()]),
    );
    t.push(
        ToolSpec::new(
            "create_a_hashicorp_terraform_cloud_project_team_access",
            M::Create,
            "team-access",
            "Grant team access to a project",
            V::Post,
            "/team-projects",
            "Give a team access to a project and all its workspaces (read, write, maintain, admin, or custom permissions).",
        )
        .params(
            [
                vec![
                    P::rel("project_id", "project", "projects", "Project (`prj-...`).").required(),
                    P::rel("team_id", "team", "teams", "Team (`team-...`).").required(),
                ],
                project_access_settings().into_iter().map(|p| if p.name == "access" { p.required() } else { p }).collect(),
            ]
            .concat(),
        )
        .body(Body::Resource("team-projects")),
    );
    t.push(
        ToolSpec::new(
            "update_a_hashicorp_terraform_cloud_project_team_access_by_id",
            M::Update,
            "team-access",
            "Update team access to a project",
            V::Patch,
            "/team-projects/{project_team_access_id}",
            "Change a team's access level or custom permissions on a project.",
        )
        .params([vec![tprj_id()], project_access_settings()].concat())
        .body(Body::Resource("team-projects")),
    );
    t.push(
        ToolSpec::new(
            "delete_a_hashicorp_terraform_cloud_project_team_access_by_id",
            M::Delete,
            "team-access",
            "Revoke team access to a project",
            V::Delete,
            "/team-projects/{project_team_access_id}",
            "Remove a team's access to a project.",
        )
        .params(vec![tprj_id()]),
    );
    t
}
