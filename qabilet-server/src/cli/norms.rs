//! `qabilet norms check` and `qabilet norms demo`.

use std::path::Path;

use qabilet_core::battery::Battery;
use qabilet_core::norms::NormStatus;
use qabilet_core::norms::model::DevelopmentalModel;

use crate::error::CliError;
use crate::norm_dir;

/// Validates a battery folder and prints its identity.
pub fn check(dir: &Path) -> Result<(), CliError> {
    let norms = norm_dir::load(dir)?;
    let b = &norms.battery;
    let status = match norms.provenance.status {
        NormStatus::Demonstration => "demonstration",
        NormStatus::Clinical => "clinical",
    };
    let ids = |it: &mut dyn Iterator<Item = &str>| it.collect::<Vec<_>>().join(" ");
    println!("battery:    {} {}", b.id, b.version);
    println!("norm set:   {}", norms.id.hash);
    println!(
        "ages:       {}–{} (months {}–{})",
        b.age_min, b.age_max, b.age_min.0, b.age_max.0
    );
    println!(
        "subtests:   {}",
        ids(&mut b.subtests.iter().map(|s| s.id.as_str()))
    );
    println!(
        "composites: {}",
        ids(&mut b.composites.iter().map(|c| c.id.as_str()))
    );
    println!(
        "status:     {status} (sample size {})",
        norms.provenance.sample_size
    );
    if let Some(notice) = &norms.id.notice {
        println!("notice:     {notice}");
    }
    Ok(())
}

/// Writes the tables of the stated developmental model, then checks the folder loads.
pub fn demo(dir: &Path, out: Option<&Path>) -> Result<(), CliError> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read_to_string(&path).map_err(|e| CliError::read(path, e))
    };
    let battery_toml = read("battery.toml")?;
    let provenance_toml = read("provenance.toml")?;
    let norms_err = |source: qabilet_core::NormError| CliError::Norms {
        dir: dir.display().to_string(),
        source,
    };
    let battery = Battery::from_toml(&battery_toml).map_err(|e| norms_err(e.into()))?;
    let model = DevelopmentalModel::from_provenance(&battery, &provenance_toml)
        .map_err(|e| CliError::Usage(format!("{}: {e}", dir.display())))?;
    let tables = model.tables(&battery);
    let out = out.unwrap_or(dir);
    std::fs::create_dir_all(out).map_err(|e| CliError::write(out, e))?;
    if out != dir {
        for name in ["battery.toml", "provenance.toml"] {
            std::fs::copy(dir.join(name), out.join(name)).map_err(|e| CliError::write(out.join(name), e))?;
        }
    }
    for (name, text) in [
        ("subtests.csv", &tables.subtests_csv),
        ("composites.csv", &tables.composites_csv),
        ("reliability.csv", &tables.reliability_csv),
        ("base_rates.csv", &tables.base_rates_csv),
    ] {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|e| CliError::write(path, e))?;
    }
    let norms = norm_dir::load(out)?;
    eprintln!(
        "wrote demonstration norms to {} ({})",
        out.display(),
        norms.id.hash
    );
    Ok(())
}
