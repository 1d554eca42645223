//! Every message key a report built from given tables can carry, and the section headings a
//! renderer needs: the list that `texts/{kk,ru,en}.ftl` must cover (checked by the tests, and
//! worth checking when a renderer loads its texts).

use crate::guidance::{DomainRole, Evidence, GuidanceTables, StandingKind};

/// Headings and labels a renderer needs besides the report's own messages.
pub const RENDERER_KEYS: [&str; 43] = [
    "report-title",
    "section-summary",
    "section-profile",
    "section-strengths",
    "section-support",
    "section-learning",
    "section-activities",
    "section-directions",
    "section-referral",
    "section-interests",
    "section-caveats",
    "label-evidence",
    "label-ci",
    // The rendered page's layout (qabilet-server `report`): header, profile table, norm set
    // and what the report was made with, traces, psychologist's edits, chart, footer.
    "label-child",
    "label-age",
    "label-domain",
    "label-index",
    "label-percentile",
    "label-classification",
    "section-norms",
    "label-battery",
    "label-version",
    "label-norm-hash",
    "label-guidance-hash",
    "label-software-version",
    "label-norm-status",
    "norm-status-demonstration",
    "norm-status-clinical",
    "label-norm-created",
    "label-norm-sample",
    "label-intended-use",
    "label-norm-method",
    "label-notice",
    "label-trace",
    "label-rule",
    "label-source",
    "label-facts",
    "label-edited",
    "label-generated",
    "generated-by",
    "chart-axis",
    "chart-average",
    "page-number",
];

/// Keys that do not depend on the tables.
const FIXED: [&str; 27] = [
    "summary-age",
    "summary-general",
    "summary-flat",
    "summary-uneven",
    "profile-row",
    "direction-broad-directions",
    "direction-broad-worlds",
    "direction-broad-clusters",
    "referral-referred",
    "referral-uncertain",
    "referral-not-referred",
    "referral-no-index",
    "referral-rate-single",
    "referral-rate-any",
    "referral-rate-any-unknown",
    "interests-none",
    "interests-ignored-age",
    "interests-blended",
    "respondent-parent",
    "respondent-child",
    "caveat-stability",
    "caveat-reassess",
    "caveat-not-profession",
    "caveat-intervals",
    "caveat-whole-picture",
    "caveat-demonstration",
    "label-isco",
];

/// Every message key (including keys passed as `_key` arguments) that
/// [`super::consultation`] can put in a report built from `tables`, plus
/// [`RENDERER_KEYS`]; sorted, without repeats.
pub fn message_keys(tables: &GuidanceTables) -> Vec<String> {
    let mut keys: Vec<String> = FIXED
        .iter()
        .chain(RENDERER_KEYS.iter())
        .map(|k| k.to_string())
        .collect();
    for k in [
        StandingKind::ClearStrength,
        StandingKind::PossibleStrength,
        StandingKind::RelativeStrength,
    ] {
        keys.push(format!("strength-{}", k.code()));
    }
    for k in [StandingKind::Support, StandingKind::CloserLook] {
        keys.push(format!("support-{}", k.code()));
    }
    for d in &tables.domains {
        keys.push(d.name.clone());
        match d.role {
            DomainRole::Learning => {
                for suffix in ["strength", "support", "closer-look"] {
                    keys.push(format!("learning-{}-{suffix}", d.key));
                }
            }
            DomainRole::Ability if d.drives_careers => keys.push(format!("direction-{}", d.key)),
            _ => {}
        }
    }
    keys.extend(tables.age_gates.worlds.iter().map(|w| format!("world-{}", w.key)));
    keys.extend(tables.clusters.iter().map(|c| format!("cluster-{}", c.key)));
    keys.extend(tables.activities.iter().map(|a| format!("activity-{}", a.key)));
    keys.extend(Evidence::ALL.iter().map(|e| format!("evidence-{}", e.code())));
    keys.sort();
    keys.dedup();
    keys
}
