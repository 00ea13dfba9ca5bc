//! The catalog as data: names, methods, tags, schemas, annotations, and the
//! tool filter semantics.

use std::collections::{BTreeSet, HashSet};

use serde_json::{Value, json};
use tfc_mcp_gateway::catalog::{Body, Kind, Loc, Method, REGISTRY_TAG, TAGS, catalog, expand_methods};
use tfc_mcp_gateway::filter::ToolFilter;
use tfc_mcp_gateway::mcp_tool::ToMcpTool;
use tfc_mcp_gateway::route::Route;

const SEED_TOOLS: &[(&str, Method, &str)] = &[
    ("list_all_hashicorp_terraform_cloud_workspaces", Method::List, "workspaces"),
    ("get_single_hashicorp_terraform_cloud_current_state_version_by_id", Method::Get, "state-versions"),
    ("create_a_hashicorp_terraform_cloud_run", Method::Create, "runs"),
    ("hashicorp_terraform_cloud_runs_apply", Method::Custom, "runs"),
    ("hashicorp_terraform_cloud_workspaces_force_unlock", Method::Custom, "workspaces"),
    ("list_all_hashicorp_terraform_cloud_organization_policies", Method::List, "policies"),
];

#[test]
fn seed_tools_exist_with_method_and_tag() {
    for (name, method, tag) in SEED_TOOLS {
        let t = catalog().get(name).unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(t.method, *method, "{name}");
        assert_eq!(t.tag, *tag, "{name}");
    }
    let cs = catalog().get("get_single_hashicorp_terraform_cloud_current_state_version_by_id").unwrap();
    assert!(cs.param("workspace_id").is_some_and(|p| p.required));
}

#[test]
fn more_expected_tools() {
    let expected = [
        ("list_all_hashicorp_terraform_cloud_organizations", Method::List, "organizations"),
        ("get_single_hashicorp_terraform_cloud_organization_by_id", Method::Get, "organizations"),
        ("get_single_hashicorp_terraform_cloud_workspace_by_id", Method::Get, "workspaces"),
        ("create_a_hashicorp_terraform_cloud_workspace", Method::Create, "workspaces"),
        ("update_a_hashicorp_terraform_cloud_workspace_by_id", Method::Update, "workspaces"),
        ("delete_a_hashicorp_terraform_cloud_workspace_by_id", Method::Delete, "workspaces"),
        ("hashicorp_terraform_cloud_workspaces_lock", Method::Custom, "workspaces"),
        ("hashicorp_terraform_cloud_workspaces_unlock", Method::Custom, "workspaces"),
        ("list_all_hashicorp_terraform_cloud_runs", Method::List, "runs"),
        ("get_single_hashicorp_terraform_cloud_run_by_id", Method::Get, "runs"),
        ("hashicorp_terraform_cloud_runs_discard", Method::Custom, "runs"),
        ("hashicorp_terraform_cloud_runs_cancel", Method::Custom, "runs"),
        ("get_single_hashicorp_terraform_cloud_plan_by_id", Method::Get, "plans"),
        ("get_single_hashicorp_terraform_cloud_apply_by_id", Method::Get, "applies"),
        ("get_single_hashicorp_terraform_cloud_organization_policy_by_id", Method::Get, "policies"),
        ("list_all_hashicorp_terraform_cloud_state_versions", Method::List, "state-versions"),
        ("get_single_hashicorp_terraform_cloud_state_version_by_id", Method::Get, "state-versions"),
        ("list_all_hashicorp_terraform_cloud_state_version_outputs", Method::List, "state-versions"),
        ("get_single_hashicorp_terraform_cloud_state_version_output_by_id", Method::Get, "state-versions"),
        ("list_all_hashicorp_terraform_cloud_projects", Method::List, "projects"),
        ("get_single_hashicorp_terraform_cloud_project_by_id", Method::Get, "projects"),
        ("get_single_hashicorp_terraform_cloud_user_by_id", Method::Get, "users"),
    ];
    for (name, method, tag) in expected {
        let t = catalog().get(name).unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!((t.method, t.tag), (method, tag), "{name}");
    }
}

#[test]
fn names_follow_the_convention() {
    let mut seen = HashSet::new();
    for t in catalog().iter() {
        assert!(seen.insert(t.name), "duplicate {}", t.name);
        // The public Terraform Registry's tools are not HCP Terraform's
        // (`..._terraform_registry_...`); its reads name things, not ids.
        let registry = t.tag == REGISTRY_TAG;
        let ok = match t.method {
            _ if registry => {
                (t.method == Method::List && t.name.starts_with("list_all_hashicorp_terraform_registry_"))
                    || (t.method == Method::Get
                        && t.name.starts_with("get_single_hashicorp_terraform_registry_")
                        && (t.name.ends_with("_by_id") || t.name.ends_with("_by_name")))
            }
            Method::List => t.name.starts_with("list_all_hashicorp_terraform_cloud_"),
            Method::Get => t.name.starts_with("get_single_hashicorp_terraform_cloud_") && t.name.ends_with("_by_id"),
            Method::Create => t.name.starts_with("create_a_hashicorp_terraform_cloud_"),
            Method::Update => t.name.starts_with("update_a_hashicorp_terraform_cloud_") && t.name.ends_with("_by_id"),
            Method::Delete => t.name.starts_with("delete_a_hashicorp_terraform_cloud_") && t.name.ends_with("_by_id"),
            Method::Observe | Method::Custom => t.name.starts_with("hashicorp_terraform_cloud_"),
        };
        assert!(ok, "{} does not match the {} naming convention", t.name, t.method);
        assert!(t.name.len() <= 64, "{} is longer than 64 characters (some MCP clients refuse that)", t.name);
        assert!(t.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{}", t.name);
        assert!(!t.title.is_empty() && !t.description.is_empty(), "{}", t.name);
    }
    assert_eq!(catalog().len(), seen.len());
    assert!(catalog().len() >= 80, "catalog has {} tools", catalog().len());
}

#[test]
fn every_tag_is_known_and_used() {
    let used: BTreeSet<&str> = catalog().iter().map(|t| t.tag).collect();
    for t in catalog().iter() {
        assert!(TAGS.contains(&t.tag), "{} has unknown tag {}", t.name, t.tag);
    }
    for tag in TAGS {
        assert!(used.contains(tag), "tag {tag} has no tool");
        assert!(catalog().has_tag(tag));
    }
    assert!(!catalog().has_tag("nope"));
}

#[test]
fn entries_are_consistent() {
    for t in catalog().iter() {
        // Placeholders are path parameters and vice versa.
        let mut placeholders = BTreeSet::new();
        for p in &t.paths {
            assert!(p.starts_with('/'), "{}: {p}", t.name);
            for part in p.split('{').skip(1) {
                let name = part.split('}').next().unwrap();
                placeholders.insert(name);
                let param = t.param(name).unwrap_or_else(|| panic!("{}: no parameter for {{{name}}}", t.name));
                assert_eq!(param.loc, Loc::Path, "{}: {name}", t.name);
            }
        }
        for p in &t.params {
            if p.loc == Loc::Path {
                assert!(placeholders.contains(p.name), "{}: path param {} unused", t.name, p.name);
                assert_eq!(p.kind, Kind::String);
                if t.paths.len() > 1 {
                    assert!(!p.required, "{}: {} must be optional with alternative paths", t.name, p.name);
                }
            }
            match p.loc {
                Loc::Attr(_) | Loc::Rel { .. } => {
                    assert!(matches!(t.body, Body::Resource(_)), "{}: {} needs a resource body", t.name, p.name)
                }
                Loc::Body(_) => assert_eq!(t.body, Body::Plain, "{}", t.name),
                _ => {}
            }
            assert!(!["page_number", "page_size", "next_cursor"].contains(&p.name), "{}", t.name);
        }
        if let Body::RelationshipList { param, .. } = t.body {
            assert!(t.param(param).is_some_and(|p| p.kind == Kind::StringList), "{}", t.name);
        }
    }
}

#[test]
fn schemas_are_flat_and_closed() {
    for t in catalog().iter() {
        let s = t.input_schema();
        assert_eq!(s["type"], json!("object"), "{}", t.name);
        assert_eq!(s["additionalProperties"], json!(false), "{}", t.name);
        let props = s["properties"].as_object().unwrap();
        for r in s.get("required").and_then(Value::as_array).into_iter().flatten() {
            assert!(props.contains_key(r.as_str().unwrap()), "{}: {r}", t.name);
        }
        for (k, v) in props {
            assert!(v["type"].is_string(), "{}: {k}", t.name);
            assert!(v["description"].is_string(), "{}: {k}", t.name);
        }
        assert_eq!(props.contains_key("next_cursor"), t.method == Method::List, "{}", t.name);
        // Cached: the same allocation every time.
        assert!(std::sync::Arc::ptr_eq(&s, &t.input_schema()));
    }
    let s = catalog().get("list_all_hashicorp_terraform_cloud_workspaces").unwrap().input_schema();
    assert_eq!(s["required"], json!(["organization_name"]));
    assert_eq!(s["properties"]["page_size"]["maximum"], json!(100));
}

#[test]
fn annotations_follow_the_method() {
    for t in catalog().iter() {
        let tool = t.to_mcp_tool();
        assert_eq!(tool.name, t.name);
        assert_eq!(tool.title.as_deref(), Some(t.title));
        let a = tool.annotations.clone().unwrap();
        assert_eq!(a.open_world_hint, Some(true), "{}", t.name);
        if t.method.is_read_only() {
            assert_eq!(a.read_only_hint, Some(true), "{}", t.name);
        }
        if t.method == Method::Custom {
            assert_eq!(a.read_only_hint, Some(false), "{}", t.name);
        }
        if t.method == Method::Delete {
            assert_eq!(a.destructive_hint, Some(true), "{}", t.name);
        }
        if matches!(t.method, Method::Create | Method::Update) {
            assert_eq!(a.read_only_hint, Some(false), "{}", t.name);
        }
    }
    let get = |n: &str| catalog().get(n).unwrap().to_mcp_tool().annotations.unwrap();
    for destructive in [
        "hashicorp_terraform_cloud_workspaces_force_unlock",
        "hashicorp_terraform_cloud_runs_discard",
        "hashicorp_terraform_cloud_runs_cancel",
        "hashicorp_terraform_cloud_runs_force_cancel",
        "hashicorp_terraform_cloud_workspaces_force_delete",
    ] {
        assert_eq!(get(destructive).destructive_hint, Some(true), "{destructive}");
    }
    assert_eq!(get("hashicorp_terraform_cloud_workspaces_lock").destructive_hint, Some(false));
    assert_eq!(get("hashicorp_terraform_cloud_runs_wait").read_only_hint, Some(true));
    let wire = serde_json::to_value(catalog().get("create_a_hashicorp_terraform_cloud_run").unwrap().to_mcp_tool()).unwrap();
    assert_eq!(wire["inputSchema"]["properties"]["plan_only"]["type"], json!("boolean"));
    assert_eq!(wire["annotations"]["openWorldHint"], json!(true));
}

// ---- methods and the filter ----------------------------------------------------------

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn expand_methods_groups_and_errors() {
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    let cases: &[(&[&str], Option<&[&str]>)] = &[
        (&["read"], Some(&["list", "get"])),
        (&["write"], Some(&["create", "update", "delete"])),
        (&["custom"], Some(&["custom", "observe"])),
        (&["observe"], Some(&["observe"])),
        (&["read", "observe"], Some(&["list", "get", "observe"])),
        (&["read", "write", "custom"], Some(&["list", "get", "create", "update", "delete", "observe", "custom"])),
        (&["get", "Delete"], Some(&["get", "delete"])),
        (&["read", "get"], Some(&["list", "get"])),
        (&[], Some(&[])),
        (&["admin"], None),
        (&["read", ""], None),
    ];
    for (spec, want) in cases {
        let got = expand_methods(&strings(spec));
        match want {
            Some(w) => assert_eq!(got.unwrap(), set(w), "{spec:?}"),
            None => {
                let e = got.unwrap_err();
                assert!(e.contains("unknown method"), "{e}");
            }
        }
    }
    assert_eq!(Method::parse("list").map(Method::as_str), Some("list"));
    assert_eq!(Method::parse("write"), None);
}

fn route(methods: &[&str], tags: &[&str], include: &[&str], exclude: &[&str]) -> Route {
    serde_json::from_value(json!({
        "version": 1, "tokenSha256": "00", "server": "ns/s", "tfcAddress": "https://app.terraform.io",
        "methods": methods, "tags": tags, "includeTools": include, "excludeTools": exclude,
    }))
    .unwrap()
}

/// (methods, tags, include, exclude) -> allowed (list_ws, create_run, force_unlock)
type FilterCase<'a> = (&'a [&'a str], &'a [&'a str], &'a [&'a str], &'a [&'a str], [bool; 3]);

#[test]
fn filter_semantics() {
    let c = catalog();
    let list_ws = c.get("list_all_hashicorp_terraform_cloud_workspaces").unwrap();
    let create_run = c.get("create_a_hashicorp_terraform_cloud_run").unwrap();
    let force_unlock = c.get("hashicorp_terraform_cloud_workspaces_force_unlock").unwrap();
    let download = c.get("hashicorp_terraform_cloud_state_versions_download").unwrap();

    // (methods, tags, include, exclude) -> (list_ws, create_run, force_unlock)
    let cases: &[FilterCase] = &[
        (&["list", "get"], &[], &[], &[], [true, false, false]),
        (&["read"], &[], &[], &[], [true, false, false]), // groups accepted too
        (&["list", "get", "create", "update", "delete", "custom"], &[], &[], &[], [true, true, true]),
        (&["list", "create", "custom"], &["runs"], &[], &[], [false, true, false]),
        (
            &["list", "create", "custom"],
            &["workspaces", "runs"],
            &[],
            &["hashicorp_terraform_cloud_workspaces_force_unlock"],
            [true, true, false],
        ),
        (&["list", "create", "custom"], &[], &["create_a_hashicorp_terraform_cloud_run"], &[], [false, true, false]),
        // include does not override methods or tags
        (
            &["list"],
            &[],
            &["create_a_hashicorp_terraform_cloud_run", "list_all_hashicorp_terraform_cloud_workspaces"],
            &[],
            [true, false, false],
        ),
        (&["list", "create"], &["workspaces"], &["create_a_hashicorp_terraform_cloud_run"], &[], [false, false, false]),
        // exclude wins over include
        (
            &["list"],
            &[],
            &["list_all_hashicorp_terraform_cloud_workspaces"],
            &["list_all_hashicorp_terraform_cloud_workspaces"],
            [false, false, false],
        ),
        (&[], &[], &[], &[], [false, false, false]),
        (&["bogus"], &[], &[], &[], [false, false, false]),
    ];
    for (methods, tags, include, exclude, want) in cases {
        let f = ToolFilter::from_route(&route(methods, tags, include, exclude));
        let got = [f.allows(list_ws), f.allows(create_run), f.allows(force_unlock)];
        assert_eq!(&got, want, "methods={methods:?} tags={tags:?} include={include:?} exclude={exclude:?}");
        assert_eq!(f.count(), c.iter().filter(|t| f.allows(t)).count());
    }

    let all = ToolFilter::from_route(&route(&["read", "write", "custom"], &[], &[], &[]));
    assert_eq!(all.count(), c.len() - 2, "only the raw state download and the organization token creation are hidden by default");
    assert!(!all.allows(download));
    assert!(all.get("hashicorp_terraform_cloud_state_versions_download").is_none());
    let mut r = route(&["custom"], &[], &[], &[]);
    r.state.allow_raw_state_download = true;
    assert!(ToolFilter::from_route(&r).allows(download));

    let reads = ToolFilter::from_route(&route(&["read"], &[], &[], &[]));
    assert!(reads.tools().all(|t| t.method.is_read()));
    assert!(reads.get("create_a_hashicorp_terraform_cloud_run").is_none());
    assert!(reads.get("no_such_tool").is_none());
}
