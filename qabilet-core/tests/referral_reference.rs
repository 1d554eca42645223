//! The referral planner against reference figures computed outside this crate by
//! `tests/reference/referral_plan/make_referral_plan_reference.py` (scipy: bivariate normal
//! orthants by Owen's T for one stage, `integrate.quad` for two stages, each cross-checked
//! there): 225 one-stage plans (reliability 0.70–0.95, cut 110–135, above 115/120/130, rules
//! observed, upper90, upper95) and 324 two-stage plans. Every figure to 1e-9 absolute.

use qabilet_core::referral::{Figures, Plan, Rule};

const EXPECTED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/reference/referral_plan/expected.csv"
);
const TOLERANCE: f64 = 1e-9;

fn number(cell: &str, what: &str) -> f64 {
    cell.parse().unwrap_or_else(|_| panic!("{what}: {cell:?}"))
}

struct Checker {
    max_diff: f64,
    checked: usize,
}

impl Checker {
    fn close(&mut self, actual: f64, expected: &str, what: &str) {
        let e = number(expected, what);
        let d = (actual - e).abs();
        assert!(d <= TOLERANCE, "{what}: got {actual:.17e}, reference {e:.17e}");
        self.max_diff = self.max_diff.max(d);
        self.checked += 1;
    }

    fn figures(&mut self, f: &Figures, cells: [&str; 3], what: &str) {
        self.close(f.referred_rate, cells[0], &format!("{what} referred_rate"));
        self.close(f.sensitivity, cells[1], &format!("{what} sensitivity"));
        match f.ppv {
            Some(ppv) => self.close(ppv, cells[2], &format!("{what} ppv")),
            None => assert_eq!(cells[2], "", "{what} ppv: none, reference {}", cells[2]),
        }
    }
}

#[test]
fn every_figure_matches_the_scipy_reference() {
    let mut reader = csv::Reader::from_path(EXPECTED).expect("expected.csv");
    let header = reader.headers().expect("header").clone();
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    let mut check = Checker {
        max_diff: 0.0,
        checked: 0,
    };
    let (mut one, mut two) = (0, 0);
    for record in reader.records() {
        let row = record.expect("record");
        let cell = |name: &str| &row[col(name)];
        let rule: Rule = cell("rule").parse().expect("rule");
        let what = format!(
            "{rule} r={} c={} t={} r2={} c2={}",
            cell("reliability"),
            cell("cut"),
            cell("above"),
            cell("stage2_reliability"),
            cell("stage2_cut")
        );
        let stage2 = (!cell("stage2_cut").is_empty()).then(|| {
            (
                number(cell("stage2_reliability"), &what),
                number(cell("stage2_cut"), &what),
            )
        });
        let plan = Plan::new(
            rule,
            number(cell("reliability"), &what),
            number(cell("cut"), &what),
            number(cell("above"), &what),
            stage2,
        )
        .unwrap_or_else(|e| panic!("{what}: {e}"));
        let f = plan.figures();
        check.close(
            plan.stage1.threshold(),
            cell("threshold"),
            &format!("{what} threshold"),
        );
        check.close(f.above_rate, cell("above_rate"), &format!("{what} above_rate"));
        check.figures(
            &f.stage1,
            [cell("referred_rate"), cell("sensitivity"), cell("ppv")],
            &what,
        );
        match (plan.stage2, f.stage2, f.overall) {
            (None, None, None) => one += 1,
            (Some(s2), Some(f2), Some(overall)) => {
                two += 1;
                check.close(
                    s2.threshold(),
                    cell("stage2_threshold"),
                    &format!("{what} stage2_threshold"),
                );
                check.figures(
                    &f2,
                    [
                        cell("stage2_referred_rate"),
                        cell("stage2_sensitivity"),
                        cell("stage2_ppv"),
                    ],
                    &format!("{what} stage2"),
                );
                check.figures(
                    &overall,
                    [
                        cell("overall_referred_rate"),
                        cell("overall_sensitivity"),
                        cell("overall_ppv"),
                    ],
                    &format!("{what} overall"),
                );
            }
            other => panic!("{what}: stages and figures disagree: {other:?}"),
        }
    }
    assert_eq!((one, two), (225, 324), "rows");
    eprintln!(
        "{} figures checked; max |difference| from the reference {:.2e}",
        check.checked, check.max_diff
    );
}
