//! `hashicorp_terraform_cloud_runs_wait`: poll a run until it reaches a
//! status where waiting longer is pointless, because the run finished or
//! because it needs a human or another system, and say which tool moves it
//! on. The stops are data ([`RUN_STOPS`]), one row per status.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::{Cx, Progress, ToolError};
use crate::catalog::catalog;
use crate::filter::ToolFilter;

const APPLY: &str = "hashicorp_terraform_cloud_runs_apply";
const DISCARD: &str = "hashicorp_terraform_cloud_runs_discard";
const CREATE_RUN: &str = "create_a_hashicorp_terraform_cloud_run";
const OVERRIDE_POLICY: &str = "hashicorp_terraform_cloud_policy_checks_override";
/// Overrides failed mandatory run tasks and policy evaluations alike: HCP
/// Terraform overrides policy evaluations through their task stage.
const OVERRIDE_TASK_STAGE: &str = "hashicorp_terraform_cloud_task_stages_override";
/// Finds the stage to override (and why it failed).
const LIST_TASK_STAGES: &str = "list_all_hashicorp_terraform_cloud_run_task_stages";

/// When a row applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// Whatever the run's actions say.
    Always,
    /// Only when the run's `actions.is-confirmable` is true (an auto-apply
    /// run passes through `planned` on its own).
    Confirmable,
}

/// One reason to stop waiting.
#[derive(Clone, Copy, Debug)]
pub struct RunStop {
    /// Run status (HCP Terraform's snake_case name).
    pub status: &'static str,
    pub when: When,
    /// True when the run will never move again.
    pub is_final: bool,
    /// What the run waits for, in plain words.
    pub reason: &'static str,
    /// Tools that move the run on (those this server exposes are returned).
    pub next_tools: &'static [&'static str],
}

const fn stop(status: &'static str, when: When, is_final: bool, reason: &'static str, next_tools: &'static [&'static str]) -> RunStop {
    RunStop { status, when, is_final, reason, next_tools }
}

const CONFIRM: &[&str] = &[APPLY, DISCARD];

/// Every run status at which waiting stops (HCP Terraform's run states, the
/// go-tfe `RunStatus` list, and the run-task stages' `*_awaiting_decision`).
pub const RUN_STOPS: &[RunStop] = &[
    // Finished.
    stop("applied", When::Always, true, "the run finished: its changes were applied", &[]),
    stop("planned_and_finished", When::Always, true, "the run finished: the plan had no changes or the run was plan-only", &[]),
    stop("planned_and_saved", When::Always, true, "the saved plan is ready: apply it to carry it out, or discard it", CONFIRM),
    stop("discarded", When::Always, true, "the run was discarded and will not be applied", &[CREATE_RUN]),
    stop("errored", When::Always, true, "the run errored: read its plan or apply log to see why, then start a new run", &[CREATE_RUN]),
    stop("canceled", When::Always, true, "the run was canceled", &[CREATE_RUN]),
    stop("force_canceled", When::Always, true, "the run was force-canceled", &[CREATE_RUN]),
    stop(
        "policy_soft_failed",
        When::Always,
        true,
        "a soft-mandatory policy failed on a plan-only run (final for plan-only runs)",
        &[CREATE_RUN],
    ),
    // Waiting for a human.
    stop("planned", When::Confirmable, false, "the plan finished and waits for confirmation: apply it or discard it", CONFIRM),
    stop(
        "cost_estimated",
        When::Confirmable,
        false,
        "the cost estimate finished and the run waits for confirmation: apply it or discard it",
        CONFIRM,
    ),
    stop(
        "policy_checked",
        When::Confirmable,
        false,
        "the policy checks passed and the run waits for confirmation: apply it or discard it",
        CONFIRM,
    ),
    stop(
        "post_plan_completed",
        When::Confirmable,
        false,
        "the post-plan run tasks finished and the run waits for confirmation: apply it or discard it",
        CONFIRM,
    ),
    stop(
        "policy_override",
        When::Always,
        false,
        "a soft-mandatory policy failed: someone with override permission must override the policy check (then apply), or discard the run",
        &[OVERRIDE_POLICY, APPLY, DISCARD],
    ),
    // Waiting for a run task (another system) or a decision about one.
    stop(
        "pre_plan_awaiting_decision",
        When::Always,
        false,
        "a mandatory pre-plan run task failed and the run waits for a decision: override the task stage, or discard the run",
        &[LIST_TASK_STAGES, OVERRIDE_TASK_STAGE, DISCARD],
    ),
    stop(
        "post_plan_awaiting_decision",
        When::Always,
        false,
        "a mandatory post-plan run task or policy evaluation failed and the run waits for a decision: override the task stage, or discard the run",
        &[LIST_TASK_STAGES, OVERRIDE_TASK_STAGE, DISCARD],
    ),
    stop(
        "pre_apply_awaiting_decision",
        When::Always,
        false,
        "a mandatory pre-apply run task failed and the run waits for a decision: override the task stage, or discard the run",
        &[LIST_TASK_STAGES, OVERRIDE_TASK_STAGE, DISCARD],
    ),
];

/// Statuses that follow a pattern rather than a row: any `*_errored` stage
/// (`pre_plan_errored`, ...) ends the run; any other `*_awaiting_decision`
/// waits like the named ones.
const ERRORED_STAGE: RunStop = stop(
    "*_errored",
    When::Always,
    true,
    "a stage of the run errored: read the run's task stages and logs to see why, then start a new run",
    &[LIST_TASK_STAGES, CREATE_RUN],
);
const AWAITING_DECISION: RunStop = stop(
    "*_awaiting_decision",
    When::Always,
    false,
    "a run task waits for a decision: override the task stage, or discard the run",
    &[LIST_TASK_STAGES, OVERRIDE_TASK_STAGE, DISCARD],
);
/// Any other status where the run says it can be confirmed.
const CONFIRMABLE: RunStop = stop("*", When::Confirmable, false, "the run waits for confirmation: apply it or discard it", CONFIRM);

/// Why waiting stops at `status`, or `None` to keep waiting.
pub fn stop_for(status: &str, confirmable: bool) -> Option<&'static RunStop> {
    let applies = |s: &RunStop| s.when == When::Always || confirmable;
    if let Some(s) = RUN_STOPS.iter().find(|s| s.status == status) {
        return applies(s).then_some(s);
    }
    if status.ends_with("_errored") {
        Some(&ERRORED_STAGE)
    } else if status.ends_with("_awaiting_decision") {
        Some(&AWAITING_DECISION)
    } else if confirmable {
        Some(&CONFIRMABLE)
    } else {
        None
    }
}

/// The wait's options, from the tool's arguments.
struct Options {
    timeout: Duration,
    interval: Duration,
    wanted: Vec<String>,
}

impl Options {
    fn of(cx: &Cx<'_, '_>) -> Self {
        Self {
            timeout: Duration::from_secs(cx.args.int("timeout_seconds").unwrap_or(60).clamp(1, 600) as u64),
            interval: Duration::from_secs(cx.args.int("poll_interval_seconds").unwrap_or(5).clamp(1, 60) as u64),
            wanted: cx.args.strings("wait_for_statuses").iter().map(|s| s.trim().to_owned()).collect(),
        }
    }
}

/// One poll of a wait that runs as a task (see `crate::tasks`).
pub enum Poll {
    /// Keep waiting: the run's status now.
    Working(String),
    /// The answer the synchronous tool gives when it stops.
    Done(Value),
}

pub(super) async fn run_wait(cx: &Cx<'_, '_>) -> Result<Value, ToolError> {
    let options = Options::of(cx);
    let start = Instant::now();
    loop {
        let doc = fetch(cx).await?;
        let waited = start.elapsed();
        if let Some(answer) = answer(cx, &options, &doc, waited) {
            return Ok(answer);
        }
        if let Some(p) = cx.progress {
            p(Progress {
                progress: waited.as_secs_f64(),
                total: Some(options.timeout.as_secs_f64()),
                message: format!("run {} is {}", cx.args.str("run_id").unwrap_or_default(), status_of(&doc)),
            });
        }
        tokio::time::sleep(options.interval.min(options.timeout.saturating_sub(waited)).max(Duration::from_millis(100))).await;
    }
}

/// One poll of the same wait, `waited` after it started: the synchronous
/// tool's answer when it would stop now, otherwise the run's status.
pub(super) async fn poll(cx: &Cx<'_, '_>, waited: Duration) -> Result<Poll, ToolError> {
    let doc = fetch(cx).await?;
    Ok(match answer(cx, &Options::of(cx), &doc, waited) {
        Some(answer) => Poll::Done(answer),
        None => Poll::Working(status_of(&doc).to_owned()),
    })
}

async fn fetch(cx: &Cx<'_, '_>) -> Result<Value, ToolError> {
    let resp = cx.send().await?;
    if !resp.is_success() {
        return Err(cx.error(&resp, None));
    }
    Ok(resp.body.unwrap_or(Value::Null))
}

fn status_of(doc: &Value) -> &str {
    doc.pointer("/data/attributes/status").and_then(Value::as_str).unwrap_or_default()
}

/// The answer when waiting stops at this run document, or `None` to keep waiting.
fn answer(cx: &Cx<'_, '_>, options: &Options, doc: &Value, waited: Duration) -> Option<Value> {
    let status = status_of(doc).to_owned();
    let confirmable = doc.pointer("/data/attributes/actions/is-confirmable").and_then(Value::as_bool) == Some(true);
    let stop = stop_for(&status, confirmable);
    let wait = if options.wanted.contains(&status) {
        json!({"stopped_because": format!("the run reached the requested status {status}"), "needs_action": false})
    } else if let Some(s) = stop {
        json!({
            "stopped_because": s.reason,
            "needs_action": !s.is_final,
            "final": s.is_final,
            "next_tools": visible(cx, s.next_tools),
        })
    } else if waited >= options.timeout {
        json!({
            "stopped_because": format!("timeout: the run is still {status}; call this tool again to keep waiting"),
            "needs_action": false,
            "timed_out": true,
        })
    } else {
        return None;
    };
    let mut run = cx.flatten(doc.clone());
    if let (Value::Object(m), Value::Object(mut w)) = (&mut run, wait) {
        w.insert("status".into(), json!(status));
        w.insert("waited_seconds".into(), json!((waited.as_secs_f64() * 10.0).round() / 10.0));
        w.entry("timed_out").or_insert(json!(false));
        // Also at the top level, where a model looks first.
        m.insert("stopped_because".into(), w["stopped_because"].clone());
        if let Some(t) = w.get("next_tools") {
            m.insert("next_tools".into(), t.clone());
        }
        m.insert("wait".into(), Value::Object(w));
    }
    Some(run)
}

/// The tools of `names` that exist and that this server exposes.
fn visible(cx: &Cx<'_, '_>, names: &[&str]) -> Vec<&'static str> {
    let filter = ToolFilter::from_route(cx.route);
    names.iter().filter_map(|n| catalog().get(n)).filter(|t| filter.allows(t)).map(|t| t.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_statuses_stop_with_a_tool() {
        for (status, confirmable) in [
            ("planned", true),
            ("cost_estimated", true),
            ("policy_checked", true),
            ("policy_override", false),
            ("post_plan_awaiting_decision", false),
            ("pre_plan_awaiting_decision", false),
            ("pre_apply_awaiting_decision", false),
            ("some_new_awaiting_decision", false),
            ("post_plan_completed", true),
        ] {
            let s = stop_for(status, confirmable).unwrap_or_else(|| panic!("{status}"));
            assert!(!s.is_final && !s.next_tools.is_empty(), "{status}");
        }
    }

    #[test]
    fn moving_statuses_do_not_stop() {
        for status in ["pending", "plan_queued", "planning", "cost_estimating", "policy_checking", "confirmed", "applying", "apply_queued"]
        {
            assert!(stop_for(status, false).is_none(), "{status}");
        }
        // An auto-apply run passes through planned on its own.
        assert!(stop_for("planned", false).is_none());
    }

    #[test]
    fn errored_stages_are_final() {
        for status in ["errored", "pre_plan_errored", "post_plan_errored"] {
            assert!(stop_for(status, false).is_some_and(|s| s.is_final), "{status}");
        }
    }

    #[test]
    fn every_named_tool_is_in_the_catalog() {
        for s in RUN_STOPS.iter().chain([&ERRORED_STAGE, &AWAITING_DECISION, &CONFIRMABLE]) {
            for t in s.next_tools {
                assert!(catalog().get(t).is_some(), "{}: next tool {t} is not in the catalog", s.status);
            }
        }
        // A run waiting on a run task or policy evaluation names the override.
        for status in ["pre_plan_awaiting_decision", "post_plan_awaiting_decision", "pre_apply_awaiting_decision", "x_awaiting_decision"] {
            assert!(stop_for(status, false).unwrap().next_tools.contains(&OVERRIDE_TASK_STAGE), "{status}");
        }
    }
}
