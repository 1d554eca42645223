//! The input header of `qabilet score` mapped to the battery once per file, and each row
//! checked against it into a [`ScoreRequest`] (or the reason it cannot be scored).

use qabilet_core::{NormSet, ScoreRequest};

/// Where each input column goes.
#[derive(Debug, Clone)]
pub struct Columns {
    /// Column of `id`.
    pub id: usize,
    /// Column of `birth_date`.
    pub birth: usize,
    /// Column of `test_date`.
    pub test: usize,
    /// (column, subtest position in the battery), in column order.
    pub subtests: Vec<(usize, usize)>,
    /// Number of columns.
    pub width: usize,
    /// Header names as read (byte-order mark removed).
    pub names: Vec<String>,
}

impl Columns {
    /// Maps a header row; the error says what is wrong with it.
    pub fn map(norms: &NormSet, header: &csv::ByteRecord) -> Result<Columns, String> {
        let mut names: Vec<String> = Vec::with_capacity(header.len());
        let (mut id, mut birth, mut test) = (None, None, None);
        let mut subtests = Vec::new();
        for (i, raw) in header.iter().enumerate() {
            let name = std::str::from_utf8(raw).map_err(|_| format!("column {} is not UTF-8", i + 1))?;
            let name = name.trim_start_matches('\u{feff}').trim();
            if names.iter().any(|n| n == name) {
                return Err(format!("column '{name}' appears twice"));
            }
            match name {
                "id" => id = Some(i),
                "birth_date" => birth = Some(i),
                "test_date" => test = Some(i),
                // Fields of the standardisation-sample format (`norms simulate`, `norms build`):
                // not used for scoring, echoed to the output like every input column.
                "sex" | "language" | "weight" => {}
                _ => match norms.battery.subtest_index(name) {
                    Some(s) => subtests.push((i, s)),
                    None => {
                        let known: Vec<&str> = norms.battery.subtests.iter().map(|s| s.id.as_str()).collect();
                        return Err(format!(
                            "unknown column '{name}': expected id, birth_date, test_date, optionally sex, language, weight, and subtests of {} ({})",
                            norms.battery.id,
                            known.join(", ")
                        ));
                    }
                },
            }
            names.push(name.to_owned());
        }
        let need = |c: Option<usize>, name: &str| c.ok_or_else(|| format!("missing column '{name}'"));
        Ok(Columns {
            id: need(id, "id")?,
            birth: need(birth, "birth_date")?,
            test: need(test, "test_date")?,
            subtests,
            width: header.len(),
            names,
        })
    }

    /// Checks one row; the error text is what its `error` cell says.
    pub fn request(&self, norms: &NormSet, record: &csv::ByteRecord) -> Result<ScoreRequest, String> {
        if record.len() != self.width {
            return Err(format!(
                "row has {} fields, the header has {}",
                record.len(),
                self.width
            ));
        }
        let text = |i: usize| {
            std::str::from_utf8(&record[i])
                .map(str::trim)
                .map_err(|_| format!("column '{}' is not UTF-8", self.names[i]))
        };
        if text(self.id)?.is_empty() {
            return Err("id is empty".into());
        }
        for &(col, _) in &self.subtests {
            text(col)?;
        }
        let cells = self.subtests.iter().map(|&(col, s)| (s, text(col).unwrap_or("")));
        ScoreRequest::from_cells(norms, text(self.birth)?, text(self.test)?, cells).map_err(|e| e.to_string())
    }
}
