//! `qabilet_core::iin` against reference values computed outside the crate by
//! `tests/data/iin_reference.py` (Python 3 stdlib: `datetime`, `hmac`, `hashlib`): every
//! row's outcome, error detail, birth date, sex and HMAC-SHA-256 under the script's test key;
//! for valid rows also [`Iin::example`] rebuilding the number and `check_against`.

use qabilet_core::iin::{Iin, IinError, IinHash, IinKey, IinMismatch, IinSex};

const CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/iin_reference.csv");

/// The script's `TEST_KEY`.
const TEST_KEY: &[u8] = b"qabilet-iin-reference-key-0123456789abcd";

fn kind(e: &IinError) -> (&'static str, String) {
    match e {
        IinError::WrongLength { found } => ("wrong_length", found.to_string()),
        IinError::NotADigit { position } => ("not_a_digit", position.to_string()),
        IinError::InvalidCenturyDigit { digit } => ("invalid_century_digit", digit.to_string()),
        IinError::ImpossibleDate => ("impossible_date", String::new()),
        IinError::CheckDigit { expected, found } => ("check_digit", format!("{expected}/{found}")),
        IinError::NotIssued => ("not_issued", String::new()),
    }
}

#[test]
fn every_reference_row() {
    let key = IinKey::new(TEST_KEY).expect("40-byte key");
    let mut reader = csv::Reader::from_path(CSV).unwrap_or_else(|e| panic!("{CSV}: {e}"));
    let header = reader.headers().expect("header").clone();
    assert_eq!(
        header.iter().collect::<Vec<_>>(),
        ["input", "outcome", "detail", "birth_date", "sex", "hmac"]
    );
    let (mut valid, mut invalid) = (0, 0);
    for (line, record) in reader.records().enumerate() {
        let r = record.expect("record");
        let (input, outcome, detail) = (&r[0], &r[1], &r[2]);
        let at = format!("row {} ({input:?})", line + 1);
        match Iin::parse(input) {
            Ok(iin) => {
                assert_eq!(
                    outcome, "valid",
                    "{at}: parsed, reference says {outcome} {detail}"
                );
                valid += 1;
                let born: jiff::civil::Date = r[3].parse().expect("date");
                let sex = match &r[4] {
                    "male" => IinSex::Male,
                    "female" => IinSex::Female,
                    other => panic!("{at}: sex {other:?}"),
                };
                assert_eq!(iin.birth_date(), born, "{at}");
                assert_eq!(iin.sex(), sex, "{at}");
                let hash = iin.keyed_hash(&key);
                assert_eq!(hash.as_str(), &r[5], "{at}");
                assert_eq!(hash.to_string(), &r[5], "{at}");
                assert_eq!(r[5].parse::<IinHash>().expect("hex"), hash, "{at}");
                // The generator rebuilds the same number from its parts.
                let digits = input.trim_matches(' ');
                let serial: u16 = digits[7..11].parse().expect("serial");
                assert_eq!(Iin::example(born, sex, serial).as_deref(), Some(digits), "{at}");
                assert_eq!(iin.check_against(born, Some(sex)), Ok(()), "{at}");
                assert_eq!(iin.check_against(born, None), Ok(()), "{at}");
                let other_sex = match sex {
                    IinSex::Male => IinSex::Female,
                    IinSex::Female => IinSex::Male,
                };
                let next_day = born.tomorrow().expect("tomorrow");
                assert_eq!(iin.check_against(born, Some(other_sex)), Err(IinMismatch::Sex));
                assert_eq!(iin.check_against(next_day, None), Err(IinMismatch::BirthDate));
                assert_eq!(
                    iin.check_against(next_day, Some(other_sex)),
                    Err(IinMismatch::BirthDateAndSex)
                );
            }
            Err(e) => {
                let (k, d) = kind(&e);
                assert_eq!((k, d.as_str()), (outcome, detail), "{at}: {e}");
                invalid += 1;
                let message = e.to_string();
                let digits = input.trim_matches(' ');
                assert!(
                    digits.len() < 6 || !message.contains(digits),
                    "{at}: the message {message:?} shows the input"
                );
            }
        }
    }
    assert!(
        valid >= 20 && invalid >= 20,
        "{valid} valid, {invalid} invalid rows"
    );
}

/// Known answers of the keyed hash under a short or long key (RFC 4231 is checked in the
/// module's unit tests, through the same HMAC): one hash per key, and a 31-byte key refused.
#[test]
fn keys_and_hashes() {
    let iin = Iin::parse("871008401427").expect("valid");
    let a = iin.keyed_hash(&IinKey::new(&[0x61; 32]).expect("32"));
    let b = iin.keyed_hash(&IinKey::new(&[0x62; 32]).expect("32"));
    assert_ne!(a, b, "the key matters");
    assert_eq!(
        a,
        iin.keyed_hash(&IinKey::new(&[0x61; 32]).expect("32")),
        "deterministic"
    );
    assert!(IinKey::new(&[0; 31]).is_err());
    assert_eq!(
        IinKey::new(&[0; 31]).unwrap_err().to_string(),
        "an IIN hashing key has at least 32 bytes, this one has 31"
    );
    for bad in [
        "",
        "ABCDEF",
        &"A".repeat(64),
        &"g".repeat(64),
        &"0".repeat(63),
        &"0".repeat(65),
    ] {
        assert!(bad.parse::<IinHash>().is_err(), "{bad:?}");
    }
}

#[test]
fn generator_refuses_what_it_cannot_make() {
    let d = |y, m, day| jiff::civil::Date::new(y, m, day).expect("date");
    assert_eq!(Iin::example(d(2016, 5, 20), IinSex::Male, 10000), None);
    assert_eq!(Iin::example(d(1799, 12, 31), IinSex::Male, 1), None);
    assert_eq!(Iin::example(d(2100, 1, 1), IinSex::Female, 1), None);
    // The reference's not-issued row 160520500210: serial 0021 has no check digit.
    assert_eq!(Iin::example(d(2016, 5, 20), IinSex::Male, 21), None);
    assert_eq!(Iin::example(d(2020, 1, 31), IinSex::Female, 45), None);
    assert_eq!(
        Iin::example(d(1880, 4, 16), IinSex::Male, 25).as_deref(),
        Some("800416100254")
    );
}
