//! Item banks (`items/<subtest>.json`): items with their model, parameters, content tag and
//! exposure parameter, validated once at load with errors naming the item.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::model::ItemModel;

/// A problem in a bank file, naming the item (1-based position and id) where there is one.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}{reason}", item.as_ref().map(|(n, id)| format!("item {n} ('{id}'): ")).unwrap_or_default())]
pub struct BankError {
    /// Position (1-based) and id of the item, when the problem is in one.
    pub item: Option<(usize, String)>,
    /// What is wrong.
    pub reason: String,
}

/// One item of a bank.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    /// Id, unique in the bank; the column name in `irt score` input.
    pub id: String,
    /// Model and parameters.
    #[serde(flatten)]
    pub model: ItemModel,
    /// Content area, for content balancing.
    pub content: Option<String>,
    /// Sympson–Hetter exposure-control parameter P(administer | selected), in (0, 1].
    pub sympson_hetter: Option<f64>,
}

/// A validated item bank.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemBank {
    /// Items in file order.
    pub items: Vec<Item>,
    /// Where the parameters come from, in words (the file's optional `provenance`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBank {
    #[serde(default)]
    provenance: Option<String>,
    items: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    id: String,
    model: String,
    a: Option<f64>,
    b: serde_json::Value,
    c: Option<f64>,
    content: Option<String>,
    exposure: Option<RawExposure>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExposure {
    sympson_hetter: Option<f64>,
}

impl ItemBank {
    /// Parses and checks a bank file.
    ///
    /// # Errors
    /// [`BankError`] for malformed JSON, unknown fields or models, duplicate ids, a ≤ 0,
    /// c outside [0, 1), non-finite parameters, GRM thresholds not strictly increasing, an
    /// exposure parameter outside (0, 1].
    pub fn from_json(text: &str) -> Result<Self, BankError> {
        let raw: RawBank = serde_json::from_str(text).map_err(|e| BankError {
            item: None,
            reason: format!("line {}: {e}", e.line()),
        })?;
        if raw.items.is_empty() {
            return Err(BankError {
                item: None,
                reason: "the bank has no items".into(),
            });
        }
        let mut items: Vec<Item> = Vec::with_capacity(raw.items.len());
        for (n, value) in raw.items.into_iter().enumerate() {
            let guess_id = value.get("id").and_then(|v| v.as_str()).unwrap_or("?").to_owned();
            let err = |id: &str, reason: String| BankError {
                item: Some((n + 1, id.to_owned())),
                reason,
            };
            let item: RawItem = serde_json::from_value(value).map_err(|e| err(&guess_id, e.to_string()))?;
            let id = item.id.clone();
            if id.trim().is_empty() || id.contains(',') {
                return Err(err(&id, "id must be non-empty and contain no comma".into()));
            }
            if items.iter().any(|i| i.id == id) {
                return Err(err(&id, "duplicate id".into()));
            }
            let model = model_of(&item).map_err(|reason| err(&id, reason))?;
            let sympson_hetter = item.exposure.and_then(|e| e.sympson_hetter);
            if let Some(k) = sympson_hetter
                && !(k > 0.0 && k <= 1.0)
            {
                return Err(err(&id, format!("exposure.sympson_hetter {k} must be in (0, 1]")));
            }
            items.push(Item {
                id,
                model,
                content: item.content,
                sympson_hetter,
            });
        }
        Ok(ItemBank {
            items,
            provenance: raw.provenance,
        })
    }

    /// The bank with every item's Sympson–Hetter exposure parameter set to `k` (by bank
    /// position; items past the end of `k` keep theirs), everything else kept: how a
    /// calibration's K is written into a bank.
    pub fn with_sympson_hetter(&self, k: &[f64]) -> ItemBank {
        let mut bank = self.clone();
        for (item, &k) in bank.items.iter_mut().zip(k) {
            item.sympson_hetter = Some(k);
        }
        bank
    }

    /// The bank in the file format of norms/IRT.md: `provenance` first when present, then one
    /// item per line. Numbers are written in their shortest form that reads back to the same
    /// `f64`, so [`ItemBank::from_json`] of the text gives an equal bank.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\n");
        if let Some(p) = &self.provenance {
            out += &format!("  \"provenance\": {},\n", serde_json::Value::from(p.as_str()));
        }
        out += "  \"items\": [\n";
        for (n, item) in self.items.iter().enumerate() {
            let line = item_json(item);
            let comma = if n + 1 < self.items.len() { "," } else { "" };
            out += &format!("    {line}{comma}\n");
        }
        out += "  ]\n}\n";
        out
    }

    /// Position of the item with this id.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.items.iter().position(|i| i.id == id)
    }
}

/// One item as a line of the bank file: id, model, parameters, content, exposure.
fn item_json(item: &Item) -> String {
    let num = |x: f64| serde_json::Value::from(x).to_string();
    let list = |b: &[f64]| format!("[{}]", b.iter().map(|&x| num(x)).collect::<Vec<_>>().join(", "));
    let text = |t: &str| serde_json::Value::from(t).to_string();
    let mut fields = vec![format!("\"id\": {}", text(&item.id))];
    let (model, a, b, c) = match &item.model {
        ItemModel::Rasch { b } => ("rasch", None, num(*b), None),
        ItemModel::TwoPl { a, b } => ("2pl", Some(*a), num(*b), None),
        ItemModel::ThreePl { a, b, c } => ("3pl", Some(*a), num(*b), Some(*c)),
        ItemModel::Gpcm { a, b } => ("gpcm", Some(*a), list(b), None),
        ItemModel::Grm { a, b } => ("grm", Some(*a), list(b), None),
    };
    fields.push(format!("\"model\": {}", text(model)));
    if let Some(a) = a {
        fields.push(format!("\"a\": {}", num(a)));
    }
    fields.push(format!("\"b\": {b}"));
    if let Some(c) = c {
        fields.push(format!("\"c\": {}", num(c)));
    }
    if let Some(area) = &item.content {
        fields.push(format!("\"content\": {}", text(area)));
    }
    if let Some(k) = item.sympson_hetter {
        fields.push(format!("\"exposure\": {{\"sympson_hetter\": {}}}", num(k)));
    }
    format!("{{{}}}", fields.join(", "))
}

fn model_of(item: &RawItem) -> Result<ItemModel, String> {
    let scalar_b = || -> Result<f64, String> {
        let b = item.b.as_f64().ok_or("b must be a number for this model")?;
        finite("b", b)
    };
    let list_b = || -> Result<Vec<f64>, String> {
        let list = item
            .b
            .as_array()
            .ok_or("b must be a list of steps or thresholds for this model")?;
        if list.is_empty() {
            return Err("b needs at least one step or threshold".into());
        }
        if list.len() > 15 {
            return Err("at most 15 steps or thresholds".into());
        }
        list.iter()
            .map(|v| {
                v.as_f64()
                    .ok_or_else(|| "b must hold numbers".to_owned())
                    .and_then(|x| finite("b", x))
            })
            .collect()
    };
    let a = || -> Result<f64, String> {
        let a = item.a.ok_or("a is required for this model")?;
        let a = finite("a", a)?;
        if a > 0.0 {
            Ok(a)
        } else {
            Err(format!("a = {a} must be > 0"))
        }
    };
    let no = |field: &str, present: bool| {
        if present {
            Err(format!("{field} does not belong to model '{}'", item.model))
        } else {
            Ok(())
        }
    };
    match item.model.as_str() {
        "rasch" => {
            no("a", item.a.is_some())?;
            no("c", item.c.is_some())?;
            Ok(ItemModel::Rasch { b: scalar_b()? })
        }
        "2pl" => {
            no("c", item.c.is_some())?;
            Ok(ItemModel::TwoPl {
                a: a()?,
                b: scalar_b()?,
            })
        }
        "3pl" => {
            let c = finite("c", item.c.ok_or("c is required for model '3pl'")?)?;
            if !(0.0..1.0).contains(&c) {
                return Err(format!("c = {c} must be in [0, 1)"));
            }
            Ok(ItemModel::ThreePl {
                a: a()?,
                b: scalar_b()?,
                c,
            })
        }
        "gpcm" => {
            no("c", item.c.is_some())?;
            Ok(ItemModel::Gpcm {
                a: a()?,
                b: list_b()?,
            })
        }
        "grm" => {
            no("c", item.c.is_some())?;
            let b = list_b()?;
            if b.windows(2).any(|w| w[1] <= w[0]) {
                return Err("grm thresholds must be strictly increasing".into());
            }
            Ok(ItemModel::Grm { a: a()?, b })
        }
        other => Err(format!("unknown model '{other}' (rasch, 2pl, 3pl, gpcm, grm)")),
    }
}

fn finite(name: &str, x: f64) -> Result<f64, String> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(format!("{name} must be finite"))
    }
}
