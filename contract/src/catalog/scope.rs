//! What a server narrowed to some projects and workspaces (`spec.scope`)
//! may reach, as data.
//!
//! Every id kind either leads to one workspace or one project (its
//! *anchor*: a run's workspace, a stack's project), found along the same
//! documented relationships as its organization ([`IdKind::lookup`]), or
//! is organization-wide (policies, teams, variable sets...) and refused on
//! scoped servers: it cannot be confined to a workspace. Tools addressed
//! only by an organization are refused too, except those listed in
//! [`SCOPED_ORGANIZATION_TOOLS`], whose answers are filtered to the scope
//! or whose arguments confine them. The gateway's executor (`execute`)
//! interprets these tables; no tool has code of its own for it.

use super::{IdKind, Owner, ToolSpec};

/// How an id kind is confined on a scoped server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeRule {
    /// A workspace: in scope by its id, name, project or tags.
    Workspace,
    /// A project: in scope when `scope.projects` names it.
    Project,
    /// Belongs to exactly one workspace or project, reached through
    /// [`IdKind::lookup`] (`via` relationships, scanned lists, or learned
    /// from a parent's answer); in scope when that anchor is.
    Anchored,
    /// Organization-wide: cannot be confined, refused like a resource that
    /// does not exist.
    OrganizationWide,
}

impl IdKind {
    /// The scope rule of this kind (see [`ScopeRule`]).
    pub fn scope_rule(self) -> ScopeRule {
        match self {
            IdKind::Workspace => ScopeRule::Workspace,
            IdKind::Project => ScopeRule::Project,
            // Of one workspace (through its run, state version, task stage...).
            IdKind::Run
            | IdKind::Plan
            | IdKind::Apply
            | IdKind::CostEstimate
            | IdKind::ConfigurationVersion
            | IdKind::PolicyCheck
            | IdKind::StateVersion
            | IdKind::StateVersionOutput
            | IdKind::NotificationConfiguration
            | IdKind::RunTrigger
            | IdKind::TeamAccess
            | IdKind::AssessmentResult
            | IdKind::TaskStage
            | IdKind::TaskResult
            | IdKind::PolicyEvaluation
            | IdKind::PolicySetOutcome => ScopeRule::Anchored,
            // Of one project.
            IdKind::Stack | IdKind::TeamProject => ScopeRule::Anchored,
            // Shared by the whole organization (a policy set or variable set
            // applies to many workspaces, a team or agent pool serves them
            // all): a scoped server neither reads nor changes them, not even
            // to attach one to a workspace in scope.
            IdKind::Organization
            | IdKind::Policy
            | IdKind::PolicySet
            | IdKind::VariableSet
            | IdKind::Team
            | IdKind::SshKey
            | IdKind::AgentPool
            | IdKind::NoCodeModule
            | IdKind::OrganizationMembership
            | IdKind::OAuthClient
            | IdKind::OAuthToken
            | IdKind::RunTask => ScopeRule::OrganizationWide,
        }
    }
}

/// What a tool addressed by `organization_name` does on a scoped server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrganizationTool {
    /// A list whose items are kept only when in scope (workspaces,
    /// projects, and records of a workspace or project: runs, stacks).
    /// Items that name neither are dropped; totals are removed.
    Filter,
    /// Creates a workspace: only with a `project_id` in scope.
    CreateWorkspace,
    /// Addresses a workspace by `workspace_name`: checked like its id.
    WorkspaceByName,
}

/// The organization-level tools a scoped server keeps; every other tool
/// naming `organization_name` (organization settings, policies, policy and
/// variable sets, teams, memberships, tokens, SSH keys, agent pools, run
/// tasks, OAuth clients, the private registry, no-code modules, the
/// Explorer, creating projects) is refused on a scoped server, because its
/// answer or effect reaches beyond the scope.
pub const SCOPED_ORGANIZATION_TOOLS: &[(&str, OrganizationTool)] = &[
    ("list_all_hashicorp_terraform_cloud_workspaces", OrganizationTool::Filter),
    ("list_all_hashicorp_terraform_cloud_runs", OrganizationTool::Filter),
    ("list_all_hashicorp_terraform_cloud_projects", OrganizationTool::Filter),
    ("list_all_hashicorp_terraform_cloud_stacks", OrganizationTool::Filter),
    ("get_single_hashicorp_terraform_cloud_workspace_by_id", OrganizationTool::WorkspaceByName),
    ("list_all_hashicorp_terraform_cloud_state_versions", OrganizationTool::WorkspaceByName),
    ("create_a_hashicorp_terraform_cloud_workspace", OrganizationTool::CreateWorkspace),
];

/// What `tool` does on a scoped server when it is addressed by organization;
/// `None`: refused.
pub fn organization_tool(tool: &str) -> Option<OrganizationTool> {
    SCOPED_ORGANIZATION_TOOLS.iter().find(|(n, _)| *n == tool).map(|(_, t)| *t)
}

/// True when a scoped server refuses every call of this tool, so it is not
/// listed at all: each of its paths addresses the organization (and the
/// tool is not in [`SCOPED_ORGANIZATION_TOOLS`]) or an organization-wide
/// resource, or it requires an organization-wide id.
pub fn refused_when_scoped(tool: &ToolSpec) -> bool {
    if organization_tool(tool.name).is_some() {
        return false;
    }
    let wide =
        |name: &str| matches!(tool.param(name).map(|p| p.owner), Some(Owner::Of(k)) if k.scope_rule() == ScopeRule::OrganizationWide);
    let placeholders = |t: &str| t.split('{').skip(1).filter_map(|s| s.split_once('}').map(|(n, _)| n.to_owned())).collect::<Vec<_>>();
    let every_path_wide = !tool.paths.is_empty() && tool.paths.iter().all(|t| placeholders(t).iter().any(|p| wide(p)));
    every_path_wide || tool.params.iter().any(|p| p.required && wide(p.name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{ID_ARGUMENTS, catalog};

    #[test]
    fn anchored_kinds_have_a_way_to_their_anchor() {
        // Learned-only kinds are confined once seen through their parent.
        let learned_only = [IdKind::StateVersionOutput, IdKind::AssessmentResult, IdKind::PolicyEvaluation];
        for (name, owner) in ID_ARGUMENTS {
            let Owner::Of(kind) = owner else { continue };
            if kind.scope_rule() != ScopeRule::Anchored || learned_only.contains(kind) {
                continue;
            }
            let l = kind.lookup();
            assert!(!l.via.is_empty() || !l.scan.is_empty(), "{name}: {kind:?} has no way to its workspace or project");
        }
    }

    #[test]
    fn organization_tools_are_decided() {
        let c = catalog();
        for (name, _) in SCOPED_ORGANIZATION_TOOLS {
            let tool = c.get(name).unwrap_or_else(|| panic!("{name} is not in the catalog"));
            assert!(tool.param("organization_name").is_some(), "{name} takes no organization_name");
        }
        // Filtered tools are lists; the rest of the organization tools are refused.
        for tool in c.iter() {
            if let Some(OrganizationTool::Filter) = organization_tool(tool.name) {
                assert!(tool.is_paged(), "{}", tool.name);
            }
        }
        assert_eq!(organization_tool("list_all_hashicorp_terraform_cloud_explorer_results"), None);
        assert_eq!(organization_tool("list_all_hashicorp_terraform_cloud_organization_policies"), None);
        assert_eq!(organization_tool("create_a_hashicorp_terraform_cloud_project"), None);
    }

    #[test]
    fn always_refused_tools_are_not_listed() {
        let c = catalog();
        let refused = |n: &str| refused_when_scoped(c.get(n).unwrap_or_else(|| panic!("{n}")));
        for n in [
            "list_all_hashicorp_terraform_cloud_organization_policies",
            "get_single_hashicorp_terraform_cloud_variable_set_by_id",
            "list_all_hashicorp_terraform_cloud_explorer_results",
            "get_single_hashicorp_terraform_cloud_organization_by_id",
            "create_a_hashicorp_terraform_cloud_project",
        ] {
            assert!(refused(n), "{n}");
        }
        for n in [
            "list_all_hashicorp_terraform_cloud_workspaces",
            "get_single_hashicorp_terraform_cloud_workspace_by_id",
            "list_all_hashicorp_terraform_cloud_runs",
            "hashicorp_terraform_cloud_runs_apply",
            "get_single_hashicorp_terraform_cloud_project_by_id",
            "list_all_hashicorp_terraform_cloud_workspace_variable_sets",
        ] {
            assert!(!refused(n), "{n}");
        }
    }

    #[test]
    fn tools_that_name_nothing_hold_no_workspace_data() {
        // A tool naming no checked id cannot be confined; these are the
        // token's own organizations and user, the public registry and the
        // token's GitHub App installations, none of them workspace data.
        for t in catalog().iter() {
            if t.params.iter().any(|p| matches!(p.owner, Owner::Of(_))) {
                continue;
            }
            let ok = t.name == "list_all_hashicorp_terraform_cloud_organizations"
                || t.name == "get_single_hashicorp_terraform_cloud_user_by_id"
                || t.tag == crate::catalog::REGISTRY_TAG
                || t.name.contains("github");
            assert!(ok, "{} names no checked id: decide its scope", t.name);
        }
    }

    #[test]
    fn decision_table() {
        assert_eq!(IdKind::Workspace.scope_rule(), ScopeRule::Workspace);
        assert_eq!(IdKind::Project.scope_rule(), ScopeRule::Project);
        for k in [IdKind::Run, IdKind::Plan, IdKind::Apply, IdKind::StateVersion, IdKind::ConfigurationVersion, IdKind::TaskStage] {
            assert_eq!(k.scope_rule(), ScopeRule::Anchored, "{k:?}");
        }
        for k in [IdKind::Policy, IdKind::VariableSet, IdKind::Team, IdKind::OAuthToken, IdKind::AgentPool] {
            assert_eq!(k.scope_rule(), ScopeRule::OrganizationWide, "{k:?}");
        }
    }
}
