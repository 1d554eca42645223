//! Invariants of `qabilet_core::iin` for every input (proptest), against the test's own
//! check-digit function:
//!
//! * a generated IIN (date 1900–2029, either sex, any serial) parses to that date and sex
//!   when its first 11 digits have a check digit, and is refused as not issued otherwise;
//! * changing one digit of a valid IIN: digit 12 is always caught; digits 1–10 are caught
//!   whenever the altered number takes the same pass (first weights) as the original;
//!   digit 11 is never caught when the first pass applies (weight 11 ≡ 0 mod 11: the result
//!   is another valid IIN, same date and sex, another serial) and always caught when the
//!   second pass applies; a change that switches pass may go undetected. No change ever
//!   yields a valid IIN with the same date, sex and serial;
//! * parsing never panics, and what it accepts is 12 ASCII digits that the generator rebuilds.

use jiff::civil::Date;
use proptest::prelude::*;
use qabilet_core::iin::{Iin, IinError, IinHash, IinKey, IinSex};

/// Σ dᵢ·wᵢ mod 11 with weights 1..=11 (first pass), or 3..=11, 1, 2 (second pass).
fn pass_sum(first11: &[u8], second: bool) -> u32 {
    first11
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            let w = if second {
                (i as u32 + 2) % 11 + 1
            } else {
                i as u32 + 1
            };
            u32::from(d) * w
        })
        .sum::<u32>()
        % 11
}

/// Whether the first pass gives the check digit.
fn first_pass(first11: &[u8]) -> bool {
    pass_sum(first11, false) < 10
}

fn check(first11: &[u8]) -> Option<u8> {
    [false, true]
        .into_iter()
        .map(|s| pass_sum(first11, s) as u8)
        .find(|&r| r < 10)
}

fn digits_of(date: Date, sex: IinSex, serial: u16) -> Vec<u8> {
    let c7 = match (date.year() / 100, sex) {
        (19, IinSex::Male) => 3,
        (19, IinSex::Female) => 4,
        (20, IinSex::Male) => 5,
        (20, IinSex::Female) => 6,
        _ => unreachable!("1900–2029 only"),
    };
    let text = format!(
        "{:02}{:02}{:02}{c7}{serial:04}",
        date.year() % 100,
        date.month(),
        date.day()
    );
    text.bytes().map(|b| b - b'0').collect()
}

fn text_of(digits: &[u8]) -> String {
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}

fn date() -> impl Strategy<Value = Date> {
    (1900i16..=2029, 1i8..=12, 1i8..=31)
        .prop_filter_map("a calendar date", |(y, m, d)| Date::new(y, m, d).ok())
}

fn sex() -> impl Strategy<Value = IinSex> {
    prop_oneof![Just(IinSex::Female), Just(IinSex::Male)]
}

/// A valid IIN's 12 digits, with its date, sex and serial.
fn valid() -> impl Strategy<Value = (Vec<u8>, Date, IinSex, u16)> {
    (date(), sex(), 0u16..=9999).prop_filter_map("issued", |(date, sex, serial)| {
        let mut d = digits_of(date, sex, serial);
        d.push(check(&d)?);
        Some((d, date, sex, serial))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn generated_iins_parse_to_their_date_and_sex(date in date(), sex in sex(), serial in 0u16..=9999) {
        let mut d = digits_of(date, sex, serial);
        match check(&d) {
            Some(k) => {
                d.push(k);
                let text = text_of(&d);
                let iin = Iin::parse(&text).expect("valid");
                prop_assert_eq!(iin.birth_date(), date);
                prop_assert_eq!(iin.sex(), sex);
                prop_assert_eq!(Iin::example(date, sex, serial), Some(text.clone()));
                prop_assert_eq!(iin.check_against(date, Some(sex)), Ok(()));
                let padded = format!("  {text} ");
                prop_assert_eq!(Iin::parse(&padded).expect("spaces trimmed"), iin);
            }
            None => {
                prop_assert_eq!(Iin::example(date, sex, serial), None);
                for k in 0..10 {
                    d.push(k);
                    prop_assert_eq!(Iin::parse(&text_of(&d)), Err(IinError::NotIssued));
                    d.pop();
                }
            }
        }
    }

    #[test]
    fn one_changed_digit((d, date, sex, _serial) in valid(), position in 0usize..12, to in 0u8..10) {
        prop_assume!(d[position] != to);
        let mut changed = d.clone();
        changed[position] = to;
        let result = Iin::parse(&text_of(&changed));
        // Never the same date, sex and serial.
        if let Ok(iin) = &result {
            let same_serial = changed[7..11] == d[7..11];
            prop_assert!(!(iin.birth_date() == date && iin.sex() == sex && same_serial));
        }
        match position {
            11 => prop_assert!(result.is_err(), "digit 12 changed, still valid"),
            10 if first_pass(&d[..11]) => {
                let iin = result.expect("digit 11 is not covered by the first pass");
                prop_assert_eq!((iin.birth_date(), iin.sex()), (date, sex));
            }
            10 => {
                let caught = matches!(result, Err(IinError::CheckDigit { .. } | IinError::NotIssued));
                prop_assert!(caught, "digit 11 changed under the second pass, still valid");
            }
            _ if first_pass(&d[..11]) && first_pass(&changed[..11]) => {
                prop_assert!(result.is_err(), "digits 1–10 within the first pass");
            }
            _ => {} // the pass switched: the check digit may coincide
        }
    }

    #[test]
    fn parse_never_panics(text in "\\PC{0,20}") {
        if let Ok(iin) = Iin::parse(&text) {
            let digits = text.trim_matches(' ');
            prop_assert!(digits.len() == 12 && digits.bytes().all(|b| b.is_ascii_digit()));
            let serial: u16 = digits[7..11].parse().unwrap();
            let rebuilt = Iin::example(iin.birth_date(), iin.sex(), serial);
            prop_assert_eq!(rebuilt.as_deref(), Some(digits));
        }
    }

    #[test]
    fn digit_strings_never_panic(text in "[0-9 x]{10,14}") {
        let _ = Iin::parse(&text);
    }

    #[test]
    fn hashes_read_back((d, ..) in valid(), secret in proptest::collection::vec(any::<u8>(), 32..100)) {
        let key = IinKey::new(&secret).expect(">= 32 bytes");
        let hash = Iin::parse(&text_of(&d)).expect("valid").keyed_hash(&key);
        prop_assert_eq!(hash.as_str().len(), 64);
        prop_assert_eq!(hash.to_string().parse::<IinHash>(), Ok(hash));
    }
}
