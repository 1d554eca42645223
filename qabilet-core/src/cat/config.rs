//! The rules of one adaptive test: how items are selected, how exposure is controlled,
//! which content proportions are targeted, when the test stops and how θ is finally
//! estimated. Checked against the bank once, when a session starts.

use serde::{Deserialize, Serialize};

use super::CatError;
use super::content::ContentTargets;
use super::engine::CatEngine;
use super::exposure::Exposure;
use super::selection::Selection;
use super::stopping::StoppingRule;
use crate::irt::Estimator;

/// Everything that decides which item comes next and when the test ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CatConfig {
    /// Item-selection criterion (default: maximum Fisher information at the interim θ).
    #[serde(default)]
    pub selection: Selection,
    /// Exposure control (default: none).
    #[serde(default)]
    pub exposure: Exposure,
    /// Target share of each content area (Kingsbury & Zara 1989); `None`: no balancing.
    #[serde(default)]
    pub content: Option<ContentTargets>,
    /// Stopping rule.
    #[serde(default)]
    pub stopping: StoppingRule,
    /// Estimator of the final θ (default EAP, as the interim θ; norms/IRT.md).
    #[serde(default, with = "estimator_text")]
    pub final_estimator: Estimator,
}

impl CatConfig {
    /// Checks the configuration against the bank `engine` was built on.
    ///
    /// # Errors
    /// [`CatError`] naming the first rule that cannot work: a maximum length of 0 or below
    /// the minimum, an SE target that is not a positive number, a randomesque group of 0,
    /// more strata than items, content areas the bank lacks or proportions that are not a
    /// distribution, Sympson–Hetter on a bank without any exposure parameter.
    pub fn validate(&self, engine: &CatEngine) -> Result<(), CatError> {
        self.stopping.validate()?;
        self.selection.validate(engine.bank().items.len())?;
        self.exposure.validate(engine.bank())?;
        if let Some(content) = &self.content {
            content.validate(engine)?;
        }
        Ok(())
    }
}

/// Serialises [`Estimator`] as its name (`eap`, `map`, `mle`, `wle`).
mod estimator_text {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::irt::Estimator;

    pub fn serialize<S: Serializer>(e: &Estimator, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(e)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Estimator, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}
