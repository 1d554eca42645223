//! The adaptive-testing engine for one item bank: what can be precomputed from the bank
//! (EAP grid, closed forms of item information, a-strata ranks, item locations, content
//! areas), and the two steps of a test — choose the next item, record its response — applied
//! to a [`CatSession`] that holds everything that changes.
//!
//! Interim θ is EAP on the bank's grid (N(0, 1) prior, 61 points on [−6, 6]) after every
//! response, its posterior SD the SE of the stopping rule (norms/IRT.md); before the first
//! response it is the prior's mean and SD on the grid.

use std::collections::BTreeMap;

use super::CatError;
use super::available::ItemSet;
use super::selection::{self, Query};
use super::state::{CatSession, Interim, Response};
use super::stopping::StopReason;
use crate::irt::{
    CategoryCurve, EapGrid, EapScratch, Estimate, Estimator, ItemBank, ItemModel, ResponsePattern, Status,
    point_estimate,
};

/// The EAP grid of interim estimates (norms/IRT.md defaults).
pub const GRID_POINTS: usize = 61;
/// Range of the EAP grid.
pub const GRID_RANGE: (f64, f64) = (-6.0, 6.0);

/// What comes next in a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Give this item (bank position); record its response before asking again.
    Item(usize),
    /// The test is over.
    Stop(StopReason),
}

/// Information of an item in a form cheap to evaluate.
#[derive(Debug, Clone, Copy)]
enum InfoForm {
    /// Rasch and 2PL: a² e/(1 + e)² with e = exp(−|a(θ − b)|).
    Logistic { a: f64, b: f64 },
    /// 3PL, GPCM, GRM: Σ P′²/P from the model's curves.
    Curves,
}

/// One bank's precomputed selection and estimation tables; shared, read-only, by every
/// session on that bank.
#[derive(Debug, Clone)]
pub struct CatEngine {
    bank: ItemBank,
    grid: EapGrid,
    forms: Vec<InfoForm>,
    location: Vec<f64>,
    a_rank: Vec<usize>,
    areas: BTreeMap<String, ItemSet>,
}

impl CatEngine {
    /// Precomputes the tables of `bank`.
    ///
    /// # Errors
    /// [`CatError::Grid`] if the EAP grid cannot be built (it always can on a validated bank).
    pub fn new(bank: &ItemBank) -> Result<Self, CatError> {
        let n = bank.items.len();
        let grid = EapGrid::new(bank, GRID_POINTS, GRID_RANGE.0, GRID_RANGE.1).map_err(CatError::Grid)?;
        let forms = bank
            .items
            .iter()
            .map(|i| match i.model {
                ItemModel::Rasch { b } => InfoForm::Logistic { a: 1.0, b },
                ItemModel::TwoPl { a, b } => InfoForm::Logistic { a, b },
                _ => InfoForm::Curves,
            })
            .collect();
        let location = bank
            .items
            .iter()
            .map(|i| match &i.model {
                ItemModel::Rasch { b } | ItemModel::TwoPl { b, .. } | ItemModel::ThreePl { b, .. } => *b,
                ItemModel::Gpcm { b, .. } | ItemModel::Grm { b, .. } => {
                    b.iter().sum::<f64>() / b.len() as f64
                }
            })
            .collect();
        let mut by_a: Vec<usize> = (0..n).collect();
        by_a.sort_by(|&x, &y| {
            bank.items[x]
                .model
                .a()
                .total_cmp(&bank.items[y].model.a())
                .then(x.cmp(&y))
        });
        let mut a_rank = vec![0; n];
        for (rank, &item) in by_a.iter().enumerate() {
            a_rank[item] = rank;
        }
        let mut members: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, item) in bank.items.iter().enumerate() {
            if let Some(area) = &item.content {
                members.entry(area.clone()).or_default().push(i);
            }
        }
        let areas = members
            .into_iter()
            .map(|(area, items)| (area, ItemSet::from_items(n, items)))
            .collect();
        Ok(CatEngine {
            bank: bank.clone(),
            grid,
            forms,
            location,
            a_rank,
            areas,
        })
    }

    /// The bank.
    pub fn bank(&self) -> &ItemBank {
        &self.bank
    }

    /// The EAP grid of interim estimates.
    pub fn grid(&self) -> &EapGrid {
        &self.grid
    }

    /// The items of a content area, if the bank has it.
    pub fn area(&self, name: &str) -> Option<&ItemSet> {
        self.areas.get(name)
    }

    /// Fisher information of bank item `item` at θ (as [`crate::irt::item_information`]).
    #[inline]
    pub fn information(&self, item: usize, theta: f64) -> f64 {
        match self.forms[item] {
            InfoForm::Logistic { a, b } => {
                let e = (-(a * (theta - b)).abs()).exp();
                let d = 1.0 + e;
                a * a * e / (d * d)
            }
            InfoForm::Curves => {
                let model = &self.bank.items[item].model;
                let m = model.max_category();
                let mut curves = [CategoryCurve::default(); 16];
                model.curves(theta, &mut curves[..=m]);
                curves[..=m]
                    .iter()
                    .filter(|c| c.p > 0.0)
                    .map(|c| c.dp * c.dp / c.p)
                    .sum()
            }
        }
    }

    /// Rank of the item's a among the bank's (0 = lowest; ties by bank order).
    pub(super) fn a_rank(&self, item: usize) -> usize {
        self.a_rank[item]
    }

    /// The item's location: b, or the mean of its steps or thresholds.
    pub(super) fn location(&self, item: usize) -> f64 {
        self.location[item]
    }

    /// EAP θ̂ and posterior SD on the grid after `responses` (the prior's before any).
    pub fn interim(&self, responses: &[Response]) -> Interim {
        let points = self.grid.points();
        let mut log_post = self.grid.log_prior().to_vec();
        for r in responses {
            let row = self.grid.log_probabilities(r.item, usize::from(r.response));
            for (lp, v) in log_post.iter_mut().zip(row) {
                *lp += v;
            }
        }
        let max = log_post.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (mut total, mut first) = (0.0, 0.0);
        for (w, &t) in log_post.iter_mut().zip(points) {
            *w = (*w - max).exp();
            total += *w;
            first += *w * t;
        }
        let theta = first / total;
        let var: f64 = log_post
            .iter()
            .zip(points)
            .map(|(w, t)| w * (t - theta) * (t - theta))
            .sum::<f64>()
            / total;
        Interim {
            theta,
            se: var.sqrt(),
        }
    }

    fn check(&self, session: &CatSession) -> Result<(), CatError> {
        if session.bank_items() != self.bank.items.len() {
            return Err(CatError::BankMismatch {
                session: session.bank_items(),
                bank: self.bank.items.len(),
            });
        }
        Ok(())
    }

    /// The next item of `session`, or why the test is over.
    ///
    /// Asking again before recording returns the same pending item. Otherwise: the interim
    /// θ̂ and SE are recomputed from the responses; the stopping rule is checked (maximum
    /// length, then SE target); under content balancing the area with the largest shortfall
    /// is chosen; the selection criterion ranks the open items (of that area) at θ̂; exposure
    /// control picks one and may set it aside, in which case selection runs again. An item
    /// that was given, is pending or was set aside is never open again.
    ///
    /// # Errors
    /// [`CatError::BankMismatch`] if the session was started on a bank of another size.
    pub fn next_item(&self, session: &mut CatSession) -> Result<Next, CatError> {
        self.check(session)?;
        if let Some(item) = session.pending {
            return Ok(Next::Item(item));
        }
        let interim = self.interim(&session.administered);
        session.interim = interim;
        let given = session.administered.len();
        if let Some(reason) = session.config.stopping.check(given, interim.se) {
            return Ok(Next::Stop(reason));
        }
        let exposure = session.config.exposure;
        let mut ranked = Vec::with_capacity(exposure.group());
        loop {
            let mask = match &session.config.content {
                None => None,
                Some(targets) => {
                    let area = targets.choose(
                        given,
                        |a| {
                            session
                                .administered
                                .iter()
                                .filter(|r| self.bank.items[r.item].content.as_deref() == Some(a))
                                .count()
                        },
                        |a| self.area(a).is_some_and(|set| session.available.any_in(set)),
                    );
                    match area.and_then(|a| self.area(a)) {
                        Some(set) => Some(set),
                        None => return Ok(Next::Stop(StopReason::BankExhausted)),
                    }
                }
            };
            let query = Query {
                available: &session.available,
                mask,
                theta: interim.theta,
                given,
                max_items: session.config.stopping.max_items,
                keep: exposure.group(),
            };
            selection::rank(self, session.config.selection, &query, &mut ranked);
            if ranked.is_empty() {
                return Ok(Next::Stop(StopReason::BankExhausted));
            }
            let item = exposure.pick(&ranked, &mut session.rng);
            let taken = session.available.take(item);
            debug_assert!(taken, "selection offered a closed item");
            if exposure.admits(self.bank.items[item].sympson_hetter, &mut session.rng) {
                session.pending = Some(item);
                return Ok(Next::Item(item));
            }
            session.set_aside.push(item);
        }
    }

    /// Records the response (category) to the pending item and updates the interim θ̂.
    ///
    /// # Errors
    /// [`CatError::NoPendingItem`] when no item is pending, [`CatError::Category`] for a
    /// category above the item's highest, [`CatError::BankMismatch`] for a session of
    /// another bank.
    pub fn record(&self, session: &mut CatSession, response: u32) -> Result<(), CatError> {
        self.check(session)?;
        let item = session.pending.ok_or(CatError::NoPendingItem)?;
        let max = self.bank.items[item].model.max_category();
        if response as usize > max {
            return Err(CatError::Category {
                item: self.bank.items[item].id.clone(),
                category: response,
                max,
            });
        }
        session.administered.push(Response {
            item,
            response: response as u8,
        });
        session.pending = None;
        session.interim = self.interim(&session.administered);
        Ok(())
    }

    /// The final θ̂ of `session` by its configured estimator (EAP: exactly as
    /// `qabilet irt score` on the same grid).
    pub fn final_estimate(&self, session: &CatSession) -> Estimate {
        if session.administered.is_empty() {
            return Estimate {
                theta: None,
                se: None,
                status: Status::NoResponses,
            };
        }
        let mut responses = vec![None; self.bank.items.len()];
        for r in &session.administered {
            responses[r.item] = Some(u32::from(r.response));
        }
        let pattern = ResponsePattern::new(&self.bank, responses).expect("recorded categories are in range");
        match session.config.final_estimator {
            Estimator::Eap => self.grid.estimate(&pattern, &mut EapScratch::default()),
            other => point_estimate(&self.bank, &pattern, other),
        }
    }
}
