//! Which organization owns what a tool addresses, as data.
//!
//! A server with an organization allow-list (`tfc.organizations`) must know
//! the owning organization of every resource a tool call names before the
//! call is sent. Arguments are declared here once, by name (`workspace_id`
//! is always a workspace, `run_id` always a run...), and every id kind says
//! how HCP Terraform tells its organization: the resource's own
//! `organization` relationship, a relationship to a parent that has one
//! (run -> workspace -> organization), or, where the API documents no way
//! from the resource to its owner, a scan of the allowed organizations'
//! lists. The gateway's executor (`execute`) interprets this table; no tool
//! has code of its own for it.

/// The kind of resource an id argument refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdKind {
    /// An organization name (`organization_name`): it is its own owner.
    Organization,
    Workspace,
    Project,
    Run,
    Plan,
    Apply,
    CostEstimate,
    ConfigurationVersion,
    PolicyCheck,
    StateVersion,
    StateVersionOutput,
    Policy,
    PolicySet,
    VariableSet,
    Team,
    TeamAccess,
    SshKey,
    AgentPool,
    NotificationConfiguration,
    RunTrigger,
    AssessmentResult,
    Stack,
    NoCodeModule,
    OrganizationMembership,
    TeamProject,
    OAuthClient,
    OAuthToken,
    RunTask,
    TaskStage,
    TaskResult,
    PolicyEvaluation,
    PolicySetOutcome,
}

/// What an argument means for the organization allow-list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// Not an id of anything an organization owns.
    None,
    /// An id (or a list of ids) of this kind: its organization is checked
    /// before the call.
    Of(IdKind),
    /// Only meaningful inside the resource named by this sibling argument,
    /// which is checked instead (`variable_id` within `workspace_id`: the
    /// path `/workspaces/{workspace_id}/vars/{variable_id}` cannot reach a
    /// variable of another workspace).
    Within(&'static str),
}

/// The id arguments of the catalog, by name. Every argument named `*_id`,
/// `*_ids` or `organization_name` must be listed (a test checks it), so a new
/// tool cannot forget its owner check.
pub const ID_ARGUMENTS: &[(&str, Owner)] = &[
    ("organization_name", Owner::Of(IdKind::Organization)),
    ("workspace_id", Owner::Of(IdKind::Workspace)),
    ("workspace_ids", Owner::Of(IdKind::Workspace)),
    ("excluded_workspace_ids", Owner::Of(IdKind::Workspace)),
    ("sourceable_id", Owner::Of(IdKind::Workspace)),
    ("project_id", Owner::Of(IdKind::Project)),
    ("project_ids", Owner::Of(IdKind::Project)),
    ("run_id", Owner::Of(IdKind::Run)),
    ("plan_id", Owner::Of(IdKind::Plan)),
    ("apply_id", Owner::Of(IdKind::Apply)),
    ("cost_estimate_id", Owner::Of(IdKind::CostEstimate)),
    ("configuration_version_id", Owner::Of(IdKind::ConfigurationVersion)),
    ("policy_check_id", Owner::Of(IdKind::PolicyCheck)),
    ("state_version_id", Owner::Of(IdKind::StateVersion)),
    ("state_version_output_id", Owner::Of(IdKind::StateVersionOutput)),
    ("policy_id", Owner::Of(IdKind::Policy)),
    ("policy_ids", Owner::Of(IdKind::Policy)),
    ("policy_set_id", Owner::Of(IdKind::PolicySet)),
    ("policy_set_ids", Owner::Of(IdKind::PolicySet)),
    ("varset_id", Owner::Of(IdKind::VariableSet)),
    ("team_id", Owner::Of(IdKind::Team)),
    ("team_access_id", Owner::Of(IdKind::TeamAccess)),
    ("ssh_key_id", Owner::Of(IdKind::SshKey)),
    ("agent_pool_id", Owner::Of(IdKind::AgentPool)),
    ("notification_configuration_id", Owner::Of(IdKind::NotificationConfiguration)),
    ("run_trigger_id", Owner::Of(IdKind::RunTrigger)),
    ("assessment_result_id", Owner::Of(IdKind::AssessmentResult)),
    ("stack_id", Owner::Of(IdKind::Stack)),
    ("no_code_module_id", Owner::Of(IdKind::NoCodeModule)),
    ("team_ids", Owner::Of(IdKind::Team)),
    ("organization_membership_id", Owner::Of(IdKind::OrganizationMembership)),
    ("organization_membership_ids", Owner::Of(IdKind::OrganizationMembership)),
    ("project_team_access_id", Owner::Of(IdKind::TeamProject)),
    ("oauth_client_id", Owner::Of(IdKind::OAuthClient)),
    // Also inside `vcs_repo` (see [`nested_ids`]): a workspace of an allowed
    // organization cannot be connected through another organization's token.
    ("oauth_token_id", Owner::Of(IdKind::OAuthToken)),
    ("run_task_id", Owner::Of(IdKind::RunTask)),
    ("task_stage_id", Owner::Of(IdKind::TaskStage)),
    ("task_result_id", Owner::Of(IdKind::TaskResult)),
    ("policy_evaluation_id", Owner::Of(IdKind::PolicyEvaluation)),
    ("policy_set_outcome_id", Owner::Of(IdKind::PolicySetOutcome)),
    ("parent_project_id", Owner::Of(IdKind::Project)),
    // Inside the workspace or organization named beside them.
    ("variable_id", Owner::Within("workspace_id")),
    ("tag_ids", Owner::Within("workspace_id")),
    ("varset_variable_id", Owner::Within("varset_id")),
    ("workspace_task_id", Owner::Within("workspace_id")),
    ("workspace_name", Owner::Within("organization_name")),
    ("deployment_name", Owner::Within("stack_id")),
    // Users belong to no organization; an SSO team id is the identity
    // provider's name for a group.
    ("user_id", Owner::None),
    ("email_user_ids", Owner::None),
    ("user_ids", Owner::None),
    ("sso_team_id", Owner::None),
    // The public Terraform Registry's document ids: public data, no organization.
    ("provider_doc_id", Owner::None),
    // GitHub App installations belong to the token's GitHub user, not to an
    // organization.
    ("github_app_installation_id", Owner::None),
];

/// The declared meaning of an argument name; `None` when it is not listed.
pub fn id_argument(name: &str) -> Option<Owner> {
    ID_ARGUMENTS.iter().find(|(n, _)| *n == name).map(|(_, o)| *o)
}

/// Documented id prefixes of the id arguments whose owner is not an
/// [`IdKind`] of their own (checked through a sibling, or owned by no
/// organization). Names (`organization_name`, `workspace_name`) and
/// identity-provider names (`sso_team_id`) have no prefix.
const OTHER_ID_PREFIXES: &[(&str, &str)] = &[
    ("variable_id", "var"),
    ("tag_ids", "tag"),
    ("user_id", "user"),
    ("email_user_ids", "user"),
    ("user_ids", "user"),
    ("github_app_installation_id", "ghain"),
    ("varset_variable_id", "var"),
    ("workspace_task_id", "wstask"),
];

/// The prefix every value of this argument must have (`ws` for
/// `workspace_id`: `ws-` and then letters and digits), wherever the
/// argument goes (path, query, attribute, relationship).
pub fn id_prefix(name: &str) -> Option<&'static str> {
    match id_argument(name)? {
        Owner::Of(kind) => kind.prefix(),
        _ => OTHER_ID_PREFIXES.iter().find(|(n, _)| *n == name).map(|(_, p)| *p),
    }
}

/// The id fields inside an object argument, at any depth, by their
/// declared name (`oauth-token-id` and `oauth_token_id` both name
/// `oauth_token_id`): every field named like an id (`*_id`, `*_ids`).
pub fn nested_ids(v: &serde_json::Value) -> Vec<(String, &serde_json::Value)> {
    fn walk<'v>(v: &'v serde_json::Value, out: &mut Vec<(String, &'v serde_json::Value)>, depth: usize) {
        if depth > 8 {
            return;
        }
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    let name = k.replace('-', "_");
                    if name.ends_with("_id") || name.ends_with("_ids") {
                        out.push((name, v));
                    } else {
                        walk(v, out, depth + 1);
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, out, depth + 1)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut out, 0);
    out
}

/// Longest id tail accepted (HCP Terraform ids have 16 characters).
const MAX_ID_TAIL: usize = 64;

/// True when `value` is `{prefix}-` followed by 1 to 64 ASCII letters and
/// digits: the documented shape of HCP Terraform ids.
pub fn id_matches(prefix: &str, value: &str) -> bool {
    value
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|tail| !tail.is_empty() && tail.len() <= MAX_ID_TAIL && tail.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// How HCP Terraform tells the organization of an id kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OwnerLookup {
    /// `GET` path of the resource below `/api/v2`, `{id}` standing for the
    /// percent-encoded id. Its `relationships.organization` answers; if it
    /// has none, the relationships in `via` lead to a parent that is
    /// looked up the same way (a run's workspace).
    pub show: Option<&'static str>,
    /// Relationships to a parent (the related `type` says what it is).
    pub via: &'static [&'static str],
    /// Lists scanned, in order, when the resource itself does not name its
    /// owner: the id is found as an item or as one of an item's
    /// relationships (a plan as a run's `plan`) in their first page of 100.
    pub scan: &'static [Scan],
}

/// A list in which an id is looked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scan {
    /// An organization-level list (`{org}` standing for the name), scanned in
    /// each allowed organization.
    Organization(&'static str),
    /// A list below the resource named by another argument of the same call
    /// (`{id}` standing for its value), e.g. a workspace's configuration
    /// versions when a run is created in it; the owner is that resource's.
    Sibling { arg: &'static str, path: &'static str },
}

impl IdKind {
    /// The documented way from an id to its organization (see tfc-api
    /// samples): `show` + `relationships.organization` for top-level
    /// resources; `via` for resources of a workspace or a run; `scan` where
    /// the API has no link from the resource to its owner (plans, applies
    /// without state, cost estimates and configuration versions have none;
    /// SSH keys and, in the documented samples, teams and agent pools carry
    /// no organization relationship). State version outputs, assessment results and policy evaluations have
    /// neither: their owner is only known once the gateway has seen them
    /// through their parent (a state version's `outputs`, a workspace's
    /// `current-assessment-result`); otherwise a server with an allow-list
    /// refuses them.
    pub fn lookup(self) -> OwnerLookup {
        const fn l(show: Option<&'static str>, via: &'static [&'static str], scan: &'static [Scan]) -> OwnerLookup {
            OwnerLookup { show, via, scan }
        }
        const RUNS: Scan = Scan::Organization("/organizations/{org}/runs");
        match self {
            IdKind::Organization => l(None, &[], &[]),
            IdKind::Workspace => l(Some("/workspaces/{id}"), &[], &[]),
            IdKind::Project => l(Some("/projects/{id}"), &[], &[]),
            IdKind::Policy => l(Some("/policies/{id}"), &[], &[]),
            IdKind::PolicySet => l(Some("/policy-sets/{id}"), &[], &[]),
            IdKind::VariableSet => l(Some("/varsets/{id}"), &[], &[]),
            IdKind::AgentPool => l(
                Some("/agent-pools/{id}"),
                &["workspaces", "allowed-workspaces"],
                &[Scan::Organization("/organizations/{org}/agent-pools")],
            ),
            IdKind::Team => l(Some("/teams/{id}"), &[], &[Scan::Organization("/organizations/{org}/teams")]),
            IdKind::SshKey => l(None, &[], &[Scan::Organization("/organizations/{org}/ssh-keys")]),
            IdKind::Run => l(Some("/runs/{id}"), &["workspace"], &[]),
            IdKind::PolicyCheck => l(Some("/policy-checks/{id}"), &["run"], &[]),
            IdKind::StateVersion => l(Some("/state-versions/{id}"), &["workspace"], &[]),
            IdKind::NotificationConfiguration => l(Some("/notification-configurations/{id}"), &["subscribable"], &[]),
            IdKind::RunTrigger => l(Some("/run-triggers/{id}"), &["workspace"], &[]),
            IdKind::TeamAccess => l(Some("/team-workspaces/{id}"), &["workspace"], &[]),
            IdKind::Apply => l(Some("/applies/{id}"), &["state-versions"], &[RUNS]),
            IdKind::Plan => l(None, &[], &[RUNS]),
            IdKind::CostEstimate => l(None, &[], &[RUNS]),
            IdKind::ConfigurationVersion => {
                l(None, &[], &[Scan::Sibling { arg: "workspace_id", path: "/workspaces/{id}/configuration-versions" }, RUNS])
            }
            IdKind::StateVersionOutput => l(None, &[], &[]),
            IdKind::AssessmentResult => l(None, &[], &[]),
            // A stack names its project, not its organization (stacks API samples).
            IdKind::Stack => l(Some("/stacks/{id}"), &["project"], &[]),
            IdKind::NoCodeModule => l(Some("/no-code-modules/{id}"), &[], &[]),
            IdKind::OrganizationMembership => l(Some("/organization-memberships/{id}"), &[], &[]),
            IdKind::TeamProject => l(Some("/team-projects/{id}"), &["project"], &[]),
            IdKind::OAuthClient => l(Some("/oauth-clients/{id}"), &[], &[Scan::Organization("/organizations/{org}/oauth-clients")]),
            IdKind::OAuthToken => l(Some("/oauth-tokens/{id}"), &["oauth-client"], &[]),
            IdKind::RunTask => l(Some("/tasks/{id}"), &[], &[]),
            IdKind::TaskStage => l(Some("/task-stages/{id}"), &["run"], &[]),
            IdKind::TaskResult => l(Some("/task-results/{id}"), &["task-stage"], &[]),
            // No documented show: learned from a task stage's answer.
            IdKind::PolicyEvaluation => l(None, &[], &[]),
            IdKind::PolicySetOutcome => l(Some("/policy-set-outcomes/{id}"), &["policy-evaluation"], &[]),
        }
    }

    /// The documented id prefix (`ws` for workspaces); `None` for
    /// organizations, which are addressed by name.
    pub fn prefix(self) -> Option<&'static str> {
        Some(match self {
            IdKind::Organization => return None,
            IdKind::Workspace => "ws",
            IdKind::Project => "prj",
            IdKind::Run => "run",
            IdKind::Plan => "plan",
            IdKind::Apply => "apply",
            IdKind::CostEstimate => "ce",
            IdKind::ConfigurationVersion => "cv",
            IdKind::PolicyCheck => "polchk",
            IdKind::StateVersion => "sv",
            IdKind::StateVersionOutput => "wsout",
            IdKind::Policy => "pol",
            IdKind::PolicySet => "polset",
            IdKind::VariableSet => "varset",
            IdKind::Team => "team",
            IdKind::TeamAccess => "tws",
            IdKind::SshKey => "sshkey",
            IdKind::AgentPool => "apool",
            IdKind::NotificationConfiguration => "nc",
            IdKind::RunTrigger => "rt",
            IdKind::AssessmentResult => "asmtres",
            IdKind::Stack => "st",
            IdKind::NoCodeModule => "nocode",
            IdKind::OrganizationMembership => "ou",
            IdKind::TeamProject => "tprj",
            IdKind::OAuthClient => "oc",
            IdKind::OAuthToken => "ot",
            IdKind::RunTask => "task",
            IdKind::TaskStage => "ts",
            IdKind::TaskResult => "taskrs",
            IdKind::PolicyEvaluation => "poleval",
            IdKind::PolicySetOutcome => "psout",
        })
    }

    /// The kind of a JSON:API resource type (`workspaces` -> Workspace).
    pub fn from_api_type(type_: &str) -> Option<IdKind> {
        Some(match type_ {
            "organizations" => IdKind::Organization,
            "workspaces" => IdKind::Workspace,
            "projects" => IdKind::Project,
            "runs" => IdKind::Run,
            "plans" => IdKind::Plan,
            "applies" => IdKind::Apply,
            "cost-estimates" => IdKind::CostEstimate,
            "configuration-versions" => IdKind::ConfigurationVersion,
            "policy-checks" => IdKind::PolicyCheck,
            "state-versions" => IdKind::StateVersion,
            "state-version-outputs" => IdKind::StateVersionOutput,
            "policies" => IdKind::Policy,
            "policy-sets" => IdKind::PolicySet,
            "varsets" => IdKind::VariableSet,
            "teams" => IdKind::Team,
            "team-workspaces" => IdKind::TeamAccess,
            "ssh-keys" => IdKind::SshKey,
            "agent-pools" => IdKind::AgentPool,
            "notification-configurations" => IdKind::NotificationConfiguration,
            "run-triggers" => IdKind::RunTrigger,
            "assessment-results" => IdKind::AssessmentResult,
            "stacks" => IdKind::Stack,
            "no-code-modules" => IdKind::NoCodeModule,
            "organization-memberships" => IdKind::OrganizationMembership,
            "team-projects" => IdKind::TeamProject,
            "oauth-clients" => IdKind::OAuthClient,
            "oauth-tokens" => IdKind::OAuthToken,
            "tasks" => IdKind::RunTask,
            "task-stages" => IdKind::TaskStage,
            "task-results" => IdKind::TaskResult,
            "policy-evaluations" => IdKind::PolicyEvaluation,
            "policy-set-outcomes" => IdKind::PolicySetOutcome,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::catalog;

    #[test]
    fn every_id_argument_is_declared() {
        for tool in catalog().iter() {
            for p in &tool.params {
                let looks_like_id = p.name.ends_with("_id") || p.name.ends_with("_ids") || p.name == "organization_name";
                if looks_like_id {
                    assert!(id_argument(p.name).is_some(), "{}: argument `{}` is not in ID_ARGUMENTS", tool.name, p.name);
                }
                if let Owner::Within(sibling) = p.owner {
                    let s = tool.param(sibling).unwrap_or_else(|| panic!("{}: `{}` within missing `{sibling}`", tool.name, p.name));
                    assert!(matches!(s.owner, Owner::Of(_)), "{}: `{sibling}` is not checked", tool.name);
                }
            }
        }
    }

    #[test]
    fn every_kind_has_a_way_to_its_owner() {
        let learned_only = [IdKind::StateVersionOutput, IdKind::AssessmentResult, IdKind::PolicyEvaluation];
        for (name, owner) in ID_ARGUMENTS {
            let Owner::Of(kind) = owner else { continue };
            let l = kind.lookup();
            if *kind != IdKind::Organization && !learned_only.contains(kind) {
                assert!(l.show.is_some() || !l.scan.is_empty(), "{name}: {kind:?} has no lookup");
            }
            for rel in l.via {
                assert!(l.show.is_some(), "{kind:?}: via {rel} without show");
            }
            for scan in l.scan {
                if let Scan::Sibling { arg, .. } = scan {
                    assert!(matches!(id_argument(arg), Some(Owner::Of(_))), "{kind:?}: sibling {arg}");
                }
            }
        }
        // Every documented JSON:API type maps back to a kind.
        for kind in ID_ARGUMENTS.iter().filter_map(|(_, o)| if let Owner::Of(k) = o { Some(*k) } else { None }) {
            let t = match kind {
                IdKind::Workspace => "workspaces",
                IdKind::Run => "runs",
                IdKind::VariableSet => "varsets",
                IdKind::TeamAccess => "team-workspaces",
                _ => continue,
            };
            assert_eq!(IdKind::from_api_type(t), Some(kind));
        }
    }

    #[test]
    fn every_id_argument_has_a_pattern() {
        // Names, identity-provider names and the public registry's numeric
        // document ids (checked by their tool) are the only id arguments
        // without a documented prefix.
        let unpatterned = ["organization_name", "workspace_name", "sso_team_id", "deployment_name", "provider_doc_id"];
        for (name, _) in ID_ARGUMENTS {
            assert_eq!(id_prefix(name).is_none(), unpatterned.contains(name), "{name}");
        }
        assert!(id_matches("ws", "ws-HRkJLSYWF97jucqQ"));
        assert!(!id_matches("ws", "ws-"));
        assert!(!id_matches("ws", "wsout-V22qbeM92xb5mw9n"));
        assert!(!id_matches("ws", "run-YfmFLWpgTv31VZsP"));
        assert!(!id_matches("ws", "ws-abc/../x"));
        assert!(!id_matches("ws", " ws-abc"));
        assert!(!id_matches("ws", &format!("ws-{}", "a".repeat(65))));
    }

    #[test]
    fn seed_tools_are_checked() {
        let c = catalog();
        let owner = |tool: &str, arg: &str| c.get(tool).unwrap().param(arg).unwrap().owner;
        assert_eq!(owner("hashicorp_terraform_cloud_workspaces_force_unlock", "workspace_id"), Owner::Of(IdKind::Workspace));
        assert_eq!(owner("hashicorp_terraform_cloud_runs_apply", "run_id"), Owner::Of(IdKind::Run));
        assert_eq!(owner("create_a_hashicorp_terraform_cloud_run", "workspace_id"), Owner::Of(IdKind::Workspace));
        assert_eq!(owner("list_all_hashicorp_terraform_cloud_workspaces", "organization_name"), Owner::Of(IdKind::Organization));
        assert_eq!(owner("update_a_hashicorp_terraform_cloud_workspace_variable_by_id", "variable_id"), Owner::Within("workspace_id"));
        assert_eq!(owner("hashicorp_terraform_cloud_policy_sets_attach_workspaces", "workspace_ids"), Owner::Of(IdKind::Workspace));
        assert_eq!(owner("get_single_hashicorp_terraform_cloud_user_by_id", "user_id"), Owner::None);
        assert_eq!(owner("hashicorp_terraform_cloud_workspaces_lock", "reason"), Owner::None);
    }
}
