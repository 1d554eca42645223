//! Step 7 of a report: the stage-2 referral decision with the expected rates under the norms.

use super::*;

pub(super) fn refer(
    record: &ScoredProfile,
    battery: &Battery,
    tables: &GuidanceTables,
    measured: &[Measured],
) -> Referral {
    let r = &tables.referral;
    let method = record.options.ci_method;
    let scale = &battery.index_scale;
    let mut trace = Vec::new();
    let mut best: Option<(ReferralOutcome, &Measured, ConfidenceInterval)> = None;
    let mut single_index_rates = Vec::new();
    for m in measured.iter().filter(|m| r.chc.contains(&m.rule.chc)) {
        let ci = ConfidenceInterval::new(scale, m.scores.index, m.scores.reliability, r.ci_level, method);
        let outcome = r.outcome(ci);
        trace.push(
            TraceStep::new(format!("referral.{}", outcome.code()), REFERRAL)
                .fact("composite", text(m.composite))
                .fact("index", int(m.scores.index))
                .fact("reliability", Arg::Number(m.scores.reliability))
                .fact("level", int(r.ci_level.percent()))
                .fact("ci_low", int(ci.low))
                .fact("ci_high", int(ci.high))
                .fact("cut", int(r.cut)),
        );
        let combined = ReferralRules::combine(best.iter().map(|b| b.0).chain([outcome]));
        if best.is_none_or(|b| combined != b.0) {
            best = Some((outcome, m, ci));
        }
        single_index_rates.push(ExpectedRate {
            composite: m.composite.to_string(),
            rate: expected_single_index_rate(scale, m.scores.reliability, r.ci_level, method, r.cut),
        });
    }
    let message = match best {
        None => {
            trace.push(
                TraceStep::new("referral.no_index", REFERRAL).fact("counted_chc", int(r.chc.len() as i64)),
            );
            Message::new("referral-no-index")
        }
        Some((outcome, m, ci)) => Message::new(format!("referral-{}", outcome.code()))
            .arg("domain_key", text(&m.rule.name))
            .arg("ci_low", int(ci.low))
            .arg("ci_high", int(ci.high))
            .arg("cut", int(r.cut)),
    };
    let outcome = best.map_or(ReferralOutcome::NotReferred, |b| b.0);
    let mut rate_messages = Vec::new();
    if let Some((m, rate)) = measured
        .iter()
        .filter(|m| m.rule.role == DomainRole::General)
        .find_map(|m| {
            single_index_rates
                .iter()
                .find(|e| e.composite == m.composite)
                .map(|e| (m, e.rate))
        })
    {
        rate_messages.push(
            Message::new("referral-rate-single")
                .arg("domain_key", text(&m.rule.name))
                .arg("referred_percent", percent_1dp(100.0 * rate.referred))
                .arg("uncertain_percent", percent_1dp(100.0 * rate.uncertain))
                .arg("min_index", int(rate.min_index_referred.unwrap_or(scale.max + 1))),
        );
    }
    let e = &r.expected_any;
    if e.battery == battery.id {
        rate_messages.push(
            Message::new("referral-rate-any")
                .arg("referred_percent", percent_1dp(e.referred_percent))
                .arg("uncertain_percent", percent_1dp(e.uncertain_percent))
                .arg("n", int(e.n)),
        );
    } else {
        rate_messages.push(Message::new("referral-rate-any-unknown"));
    }
    trace.push(
        TraceStep::new("referral.expected_rates", REFERRAL)
            .fact(
                "single_index_method",
                text("normal model of the index, mean 100, SD 15, whole scores"),
            )
            .fact(
                "any_index_method",
                text("share of the simulated standardisation sample"),
            )
            .fact("any_index_battery", text(&e.battery))
            .fact("any_index_n", int(e.n)),
    );
    Referral {
        outcome,
        message,
        single_index_rates,
        rate_messages,
        trace,
    }
}
