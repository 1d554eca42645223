//! Test fixtures: the repository's demonstration norms, guidance tables and texts, and the
//! reports of every child of `examples/children.csv` (plus one with interests and edits).

use qabilet_core::guidance::{GuidanceTables, Interests};
use qabilet_core::profile::ScoredProfile;
use qabilet_core::report::{ConsultationReport, consultation};
use qabilet_core::{Lang, NormSet, ScoreRequest, ScoringOptions};

use super::texts::Texts;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{ROOT}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Norms, tables and texts of the repository.
pub(crate) struct Fixture {
    pub norms: NormSet,
    pub tables: GuidanceTables,
    pub texts: Vec<Texts>,
}

impl Fixture {
    pub fn load() -> Self {
        let norms = crate::norm_dir::load(std::path::Path::new(&format!(
            "{ROOT}/norms/qabilet-primary-demo"
        )))
        .expect("demo norms");
        let guidance = crate::guidance_dir::load(std::path::Path::new(&format!("{ROOT}/norms/guidance")))
            .expect("guidance");
        let (tables, texts) = (guidance.tables, guidance.texts);
        Fixture { norms, tables, texts }
    }

    pub fn texts(&self, lang: Lang) -> &Texts {
        self.texts.iter().find(|t| t.lang() == lang).unwrap()
    }

    /// The scored profile of every child of `examples/children.csv` that scores.
    pub fn records(&self) -> Vec<ScoredProfile> {
        let text = read("examples/children.csv");
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header = reader.headers().unwrap().clone();
        let mut out = Vec::new();
        for row in reader.records() {
            let row = row.unwrap();
            let raws = header.iter().zip(row.iter()).skip(3);
            let Ok(request) = ScoreRequest::parse(&self.norms, &row[1], &row[2], raws) else {
                continue;
            };
            let profile = self.norms.score(&request, &ScoringOptions::default());
            out.push(ScoredProfile::new(&row[0], &request, &profile));
        }
        assert!(out.len() >= 30, "most example children score");
        out
    }

    /// (id, report) of every example child, and one more child of 10–11 with interests.
    pub fn reports(&self) -> Vec<(String, ConsultationReport)> {
        let records = self.records();
        let mut out: Vec<(String, ConsultationReport)> = records
            .iter()
            .map(|r| {
                let report = consultation(
                    r,
                    &self.norms.battery,
                    &self.tables,
                    None,
                    super::GENERATOR_VERSION,
                )
                .expect("report");
                (r.id.clone(), report)
            })
            .collect();
        let older = records
            .iter()
            .find(|r| r.age.years >= 10)
            .expect("a child of 10–11");
        let interests = Interests::from_json(
            r#"{"respondent":"parent","ratings":{"people":2,"things":5,"data":4,"ideas":3}}"#,
            &self.tables.interests,
        )
        .unwrap();
        let report = consultation(
            older,
            &self.norms.battery,
            &self.tables,
            Some(&interests),
            super::GENERATOR_VERSION,
        )
        .unwrap();
        out.push((format!("{}+interests", older.id), report));
        out
    }
}
