//! Sample statistics for researchers: differential item functioning (Mantel–Haenszel, with
//! the ETS A/B/C classification). Rules and sources in norms/DIF.md; reference values in
//! `tests/reference/dif/`.

mod dif;

pub use dif::{
    DELTA_SCALE, DifError, DifReport, DifSample, DifStatus, EtsClass, ExamineeCounts, Favours, Group,
    ItemDif, MhStatistics, SIGNIFICANCE, Stratum, ets_class, mantel_haenszel,
};
