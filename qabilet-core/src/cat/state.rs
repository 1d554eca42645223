//! One examinee's adaptive test as serialisable state: the configuration, the items given
//! with their responses, the pending item, the items set aside by exposure control, the
//! interim estimate and the random generator (ChaCha8, serialised with its stream position).
//! A session written out and read back selects exactly the items it would have selected
//! had it stayed in memory, which lets a server keep tests between requests.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::CatError;
use super::available::Availability;
use super::config::CatConfig;
use super::engine::CatEngine;

/// One administered item and its category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Response {
    /// Bank position.
    pub item: usize,
    /// Category (0 … the item's highest).
    pub response: u8,
}

/// Interim EAP θ̂ and its posterior SD.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interim {
    /// θ̂.
    pub theta: f64,
    /// Posterior SD, the SE of the stopping rule.
    pub se: f64,
}

/// The state of one examinee's adaptive test. Create it with [`CatSession::new`], then
/// alternate [`CatEngine::next_item`] and [`CatEngine::record`].
///
/// Serialised, it holds the items as bank positions plus the bank's size (checked by the
/// engine). The set of open items is not serialised: it is rebuilt from the given, pending
/// and set-aside items, and reading back state that repeats an item is an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SessionData", into = "SessionData")]
pub struct CatSession {
    pub(super) config: CatConfig,
    bank_items: usize,
    pub(super) administered: Vec<Response>,
    pub(super) pending: Option<usize>,
    pub(super) set_aside: Vec<usize>,
    pub(super) interim: Interim,
    pub(super) rng: ChaCha8Rng,
    pub(super) available: Availability,
}

/// The serialised form of [`CatSession`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionData {
    config: CatConfig,
    bank_items: usize,
    administered: Vec<Response>,
    pending: Option<usize>,
    set_aside: Vec<usize>,
    interim: Interim,
    rng: ChaCha8Rng,
}

impl From<CatSession> for SessionData {
    fn from(s: CatSession) -> Self {
        SessionData {
            config: s.config,
            bank_items: s.bank_items,
            administered: s.administered,
            pending: s.pending,
            set_aside: s.set_aside,
            interim: s.interim,
            rng: s.rng,
        }
    }
}

impl TryFrom<SessionData> for CatSession {
    type Error = CatError;

    fn try_from(d: SessionData) -> Result<Self, CatError> {
        // The rules that need no bank; the rest is checked by the engine as it goes (a
        // content area the bank lacks has no open item; items without a Sympson–Hetter
        // parameter are always given).
        d.config.stopping.validate()?;
        d.config.selection.validate(d.bank_items)?;
        if matches!(d.config.exposure, super::Exposure::Randomesque { n: 0 }) {
            return Err(CatError::Randomesque);
        }
        let mut available = Availability::all(d.bank_items);
        let used = d
            .administered
            .iter()
            .map(|r| r.item)
            .chain(d.pending)
            .chain(d.set_aside.iter().copied());
        for item in used {
            if !available.take(item) {
                return Err(CatError::Session(format!(
                    "item {item} is outside the bank of {} items or appears twice",
                    d.bank_items
                )));
            }
        }
        Ok(CatSession {
            config: d.config,
            bank_items: d.bank_items,
            administered: d.administered,
            pending: d.pending,
            set_aside: d.set_aside,
            interim: d.interim,
            rng: d.rng,
            available,
        })
    }
}

impl CatSession {
    /// A new test on `engine`'s bank, its random choices drawn from ChaCha8 seeded with `seed`.
    ///
    /// # Errors
    /// [`CatError`] if `config` does not fit the bank ([`CatConfig::validate`]).
    pub fn new(engine: &CatEngine, config: CatConfig, seed: u64) -> Result<Self, CatError> {
        Self::with_rng(engine, config, ChaCha8Rng::seed_from_u64(seed))
    }

    /// A new test drawing its random choices from `rng`.
    ///
    /// # Errors
    /// As [`CatSession::new`].
    pub fn with_rng(engine: &CatEngine, config: CatConfig, rng: ChaCha8Rng) -> Result<Self, CatError> {
        config.validate(engine)?;
        let bank_items = engine.bank().items.len();
        Ok(CatSession {
            config,
            bank_items,
            administered: Vec::new(),
            pending: None,
            set_aside: Vec::new(),
            interim: engine.interim(&[]),
            rng,
            available: Availability::all(bank_items),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &CatConfig {
        &self.config
    }

    /// Size of the bank the session was started on.
    pub fn bank_items(&self) -> usize {
        self.bank_items
    }

    /// Items given, in order, with their responses.
    pub fn administered(&self) -> &[Response] {
        &self.administered
    }

    /// The item selected and not yet answered.
    pub fn pending(&self) -> Option<usize> {
        self.pending
    }

    /// Items set aside by Sympson–Hetter exposure control, in order.
    pub fn set_aside(&self) -> &[usize] {
        &self.set_aside
    }

    /// The interim EAP θ̂ and SE after the responses so far.
    pub fn interim(&self) -> Interim {
        self.interim
    }

    /// Whether `item` may still be selected.
    pub fn is_open(&self, item: usize) -> bool {
        self.available.contains(item)
    }

    /// Number of items that may still be selected.
    pub fn open_items(&self) -> usize {
        self.available.open()
    }
}
