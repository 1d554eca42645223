//! `qabilet norms check`, `qabilet norms demo` and `qabilet norms simulate`.

use std::path::Path;

use qabilet_core::norms::NormStatus;
use qabilet_core::norms::simulate::{self as sim, SimulationOptions};
use qabilet_core::{NormFiles, NormSet};

use crate::error::CliError;
use crate::files::{self, Named};
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
    let norm_dir::ModelFolder {
        battery_toml,
        item_banks,
        provenance_toml,
        battery,
        model,
        from_model_file,
    } = norm_dir::read_model(dir)?;
    let out = out.unwrap_or(dir);
    let in_place = files::same_file(out, dir);
    if from_model_file && in_place {
        return Err(CliError::Usage(format!(
            "{}: the folder's norms are built from a sample (its model is in model.toml); \
             write the model's own tables elsewhere with --out",
            dir.display()
        )));
    }
    let tables = model.tables(&battery);
    // Validate the complete norm set in memory before touching any file, so that a bad
    // model never replaces good tables.
    let norm_files = NormFiles {
        battery_toml,
        subtests_csv: tables.subtests_csv,
        composites_csv: tables.composites_csv,
        reliability_csv: tables.reliability_csv,
        base_rates_csv: Some(tables.base_rates_csv),
        provenance_toml,
        item_banks,
        content: norm_dir::read_content(dir, &battery)?,
    };
    let norms = NormSet::from_files(&norm_files).map_err(|source| {
        CliError::Usage(format!(
            "{}: the model gives invalid tables: {source}",
            dir.display()
        ))
    })?;
    std::fs::create_dir_all(out).map_err(|e| CliError::write(out, e))?;
    let mut to_write = vec![
        ("subtests.csv", &norm_files.subtests_csv),
        ("composites.csv", &norm_files.composites_csv),
        ("reliability.csv", &norm_files.reliability_csv),
    ];
    if let Some(base_rates) = &norm_files.base_rates_csv {
        to_write.push(("base_rates.csv", base_rates));
    }
    if !in_place {
        norm_dir::write_item_banks(out, &norm_files.item_banks)?;
        norm_dir::write_content(out, &norm_files.content)?;
        to_write.push(("battery.toml", &norm_files.battery_toml));
        to_write.push(("provenance.toml", &norm_files.provenance_toml));
    }
    for (name, text) in to_write {
        files::write_atomically(&out.join(name), text.as_bytes())?;
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
    let folder = norm_dir::read_model(dir)?;
    let inputs: Vec<Named> = norm_dir::model_files(dir, &folder)
        .into_iter()
        .map(|path| Named::new("--battery", path))
        .collect();
    files::refuse_same_file(&Named::new("--out", &args.out), &inputs)?;
    let norm_dir::ModelFolder { battery, model, .. } = folder;
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
