//! Status conditions and how they are written.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

pub const READY: &str = "Ready";
pub const EXPIRED: &str = "Expired";

/// Builds a condition, keeping `lastTransitionTime` from `previous` when the
/// status did not change (so re-applying an unchanged status is a no-op).
pub fn condition(previous: &[Condition], type_: &str, ok: bool, reason: &str, message: &str, generation: Option<i64>) -> Condition {
    let status = if ok { "True" } else { "False" };
    let last_transition_time = previous
        .iter()
        .find(|c| c.type_ == type_ && c.status == status)
        .map(|c| c.last_transition_time.clone())
        .unwrap_or_else(|| Time(k8s_openapi::jiff::Timestamp::now()));
    Condition {
        type_: type_.to_owned(),
        status: status.to_owned(),
        reason: reason.to_owned(),
        message: message.to_owned(),
        observed_generation: generation,
        last_transition_time,
    }
}

/// The (status, reason) of a condition, to detect changes worth an Event.
pub fn summary<'a>(conditions: &'a [Condition], type_: &str) -> Option<(&'a str, &'a str)> {
    conditions.iter().find(|c| c.type_ == type_).map(|c| (c.status.as_str(), c.reason.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_transition_time_when_status_is_unchanged() {
        let first = condition(&[], READY, false, "SecretNotFound", "m", Some(1));
        let again = condition(std::slice::from_ref(&first), READY, false, "SecretKeyMissing", "m2", Some(2));
        assert_eq!(first.last_transition_time, again.last_transition_time);
        assert_eq!(summary(&[again], READY), Some(("False", "SecretKeyMissing")));
    }
}
