//! Descriptive classification of index scores ("Average", "High average", …), as bands
//! defined in data with labels in kk, ru and en.

use serde::Serialize;

use crate::text::LocalizedText;

/// One band of the classification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassificationBand {
    /// Stable code written to output (`average`).
    pub id: String,
    /// Lowest index score in the band (`None`: open below).
    pub min: Option<i32>,
    /// Highest index score in the band (`None`: open above).
    pub max: Option<i32>,
    /// Labels in kk, ru, en.
    pub labels: LocalizedText,
}

/// Bands in ascending order, contiguous, covering every score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Classification {
    bands: Vec<ClassificationBand>,
}

impl Classification {
    /// Wraps bands already checked to be ascending and contiguous.
    pub(super) fn new(bands: Vec<ClassificationBand>) -> Self {
        Classification { bands }
    }

    /// The bands, lowest first.
    pub fn bands(&self) -> &[ClassificationBand] {
        &self.bands
    }

    /// The band holding `score`.
    pub fn band_of(&self, score: i32) -> &ClassificationBand {
        self.bands
            .iter()
            .find(|b| b.max.is_none_or(|max| score <= max))
            // The last band is open above, so some band always matches.
            .unwrap_or(&self.bands[self.bands.len() - 1])
    }
}
