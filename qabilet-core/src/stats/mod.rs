//! Sample statistics for researchers: differential item functioning (Mantel–Haenszel, with
//! the ETS A/B/C classification; rules and sources in norms/DIF.md, reference values in
//! `tests/reference/dif/`) and internal-consistency reliability (Cronbach's alpha,
//! split-half with Spearman–Brown, SEM) per age band of a standardisation sample
//! (reference values in `tests/reference/reliability/`); the mid-point percentile ranks of
//! a cohort's scores among themselves.

mod dif;
mod percentile_rank;
mod reliability;

pub use dif::{
    DELTA_SCALE, DifError, DifReport, DifSample, DifStatus, EtsClass, ExamineeCounts, Favours, Group,
    ItemDif, MhStatistics, SIGNIFICANCE, Stratum, ets_class, mantel_haenszel,
};
pub use percentile_rank::percentile_ranks;
pub use reliability::{
    BandReliability, Degenerate, ReliabilityOptions, ReliabilityStatus, age_bands, cronbach_alpha,
    sample_reliability, sem, spearman_brown, split_half,
};
