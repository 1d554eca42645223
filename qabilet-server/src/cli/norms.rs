//! `qabilet norms check`, `qabilet norms demo` and `qabilet norms simulate`.

use std::path::Path;

use qabilet_core::norms::NormStatus;
use qabilet_core::norms::simulate::{self as sim, SimulationOptions};
use qabilet_core::{NormFiles, NormSet};

use crate::error::CliError;
use crate::{files, norm_dir};

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
    let norm_dir::ModelFolder {
        battery_toml,
        item_banks,
        provenance_toml,
        battery,
        model,
        from_model_file,
    } = norm_dir::read_model(dir)?;
    let out = out.unwrap_or(dir);
    if from_model_file && out == dir {
        return Err(CliError::Usage(format!(
            "{}: the folder's norms are built from a sample (its model is in model.toml); \
             write the model's own tables elsewhere with --out",
            dir.display()
        )));
    }
    let tables = model.tables(&battery);
    // Validate the complete norm set in memory before touching any file, so that a bad
    // model never replaces good tables.
    let files = NormFiles {
        battery_toml,
        subtests_csv: tables.subtests_csv,
        composites_csv: tables.composites_csv,
        reliability_csv: tables.reliability_csv,
        base_rates_csv: Some(tables.base_rates_csv),
        provenance_toml,
        item_banks,
    };
    let norms = NormSet::from_files(&files).map_err(|source| {
        CliError::Usage(format!(
            "{}: the model gives invalid tables: {source}",
            dir.display()
        ))
    })?;
    std::fs::create_dir_all(out).map_err(|e| CliError::write(out, e))?;
    let mut to_write = vec![
        ("subtests.csv", &files.subtests_csv),
        ("composites.csv", &files.composites_csv),
        ("reliability.csv", &files.reliability_csv),
    ];
    if let Some(base_rates) = &files.base_rates_csv {
        to_write.push(("base_rates.csv", base_rates));
    }
    if out != dir {
        norm_dir::write_item_banks(out, &files.item_banks)?;
        to_write.push(("battery.toml", &files.battery_toml));
        to_write.push(("provenance.toml", &files.provenance_toml));
    }
    for (name, text) in to_write {
        // Write beside, then rename: a reader never sees half a table.
        let path = out.join(name);
        let partial = out.join(format!(".{name}.partial"));
        std::fs::write(&partial, text).map_err(|e| CliError::write(&partial, e))?;
        std::fs::rename(&partial, &path).map_err(|e| CliError::write(&path, e))?;
    }
    eprintln!(
        "wrote demonstration norms to {} ({})",
        out.display(),
        norms.id.hash
    );
    Ok(())
}

/// Draws a simulated standardisation sample from the folder's developmental model and writes
/// it as CSV.
pub fn simulate(args: &super::SimulateArgs) -> Result<(), CliError> {
    let dir = args.battery.as_path();
    let norm_dir::ModelFolder { battery, model, .. } = norm_dir::read_model(dir)?;
    let n = usize::try_from(args.n).map_err(|_| CliError::Usage(format!("--n {} is too large", args.n)))?;
    let options = SimulationOptions {
        items: args.items,
        ..SimulationOptions::new(n, args.seed)
    };
    let children = sim::simulate(&battery, &model, &options)
        .map_err(|e| CliError::Usage(format!("{}: {e}", dir.display())))?;
    let text = sim::to_csv(&battery, &children, args.items);
    files::write_output(&args.out, text.as_bytes())?;
    if args.out != "-" {
        eprintln!(
            "wrote {n} simulated children (seed {}) to {}",
            args.seed, args.out
        );
    }
    Ok(())
}
