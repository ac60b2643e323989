//! Exact mode: syllables counted from a transcript that sits beside a recording.
//!
//! When `NAME.txt` is found next to `NAME.wav` (or `.flac`, `.mp3`), its syllables are
//! counted and reported as `rate.exact_syllables` and `rate.exact_speaking_rate_spm` next
//! to the estimate. Counting rules:
//! - every CJK ideograph is one syllable (punctuation counts nothing);
//! - digits next to Chinese text are read out in Mandarin: `2023年` digit by digit (二零二三),
//!   numbers that start with 0 or have more than 8 digits digit by digit (phone numbers,
//!   IDs), other numbers as quantities (`105` = 一百零五, 4 syllables); a decimal point
//!   is 点, `%` is 百分之;
//! - English words by a vowel-group heuristic: groups of vowels (`y` after a consonant
//!   counts as one), minus a silent final `e`, `-es` and `-ed` where they add no syllable,
//!   plus splits such as `-ia-`, `-io-` and a consonant + `le` ending; at least one per
//!   word. This is APPROXIMATE (a pronouncing dictionary agrees on most common words but
//!   not all); English digits are spelled out as words first (`42` = forty two).

use std::path::{Path, PathBuf};

use crate::report::model::{round3, CallReport};

/// True for CJK ideographs (unified, extension A, compatibility, extensions B-F).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF | 0x20000..=0x2EBEF | 0x30000..=0x3134F)
}

/// Syllables of a transcript (Mandarin, English, or both mixed).
pub fn count_syllables(text: &str) -> u64 {
    let chinese = text.chars().any(is_cjk);
    let chars: Vec<char> = text.chars().collect();
    let mut total = 0u64;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if is_cjk(c) {
            total += 1;
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let digits: String = chars[start..i].iter().collect();
            // A decimal part: `3.14`.
            let mut decimals = 0;
            if i + 1 < chars.len() && chars[i] == '.' && chars[i + 1].is_ascii_digit() {
                i += 1;
                let d0 = i;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
                decimals = i - d0;
            }
            let next = chars.get(i).copied();
            if chinese {
                let year = digits.len() == 4 && next == Some('年');
                total += if year || digits.starts_with('0') && digits.len() > 1 || digits.len() > 8
                {
                    digits.len() as u64
                } else {
                    mandarin_number(&digits).chars().count() as u64
                };
                if decimals > 0 {
                    total += 1 + decimals as u64; // 点 and each digit
                }
            } else {
                let words = english_number(&digits);
                total += words
                    .split_whitespace()
                    .map(english_word_syllables)
                    .sum::<u64>();
                if decimals > 0 {
                    total += 1 + 2 * decimals as u64 - decimals as u64; // "point", one word per digit
                }
            }
        } else if c == '%' {
            total += if chinese { 3 } else { 2 }; // 百分之 / per-cent
            i += 1;
        } else if c.is_alphabetic() {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphabetic() && !is_cjk(chars[i]) || chars[i] == '\'')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            total += english_word_syllables(&word);
        } else {
            i += 1;
        }
    }
    total
}

/// Mandarin reading of a non-negative integer written in digits (e.g. `105` -> 一百零五).
pub fn mandarin_number(digits: &str) -> String {
    const DIGIT: [char; 10] = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];
    let n: u64 = match digits.parse() {
        Ok(n) => n,
        Err(_) => {
            return digits
                .chars()
                .filter_map(|d| d.to_digit(10))
                .map(|d| DIGIT[d as usize])
                .collect()
        }
    };
    if n == 0 {
        return "零".into();
    }
    // Four-digit sections with their big units, most significant first.
    let sections = [
        (n / 100_000_000, "亿"),
        ((n / 10_000) % 10_000, "万"),
        (n % 10_000, ""),
    ];
    let mut out = String::new();
    let mut need_zero = false;
    for (value, unit) in sections {
        if value == 0 {
            need_zero = !out.is_empty();
            continue;
        }
        if !out.is_empty() && (need_zero || value < 1000) {
            out.push('零');
        }
        let mut section = String::new();
        let mut zero = false;
        for (place, name) in [(1000, "千"), (100, "百"), (10, "十"), (1, "")] {
            let d = (value / place) % 10;
            if d == 0 {
                zero = !section.is_empty();
                continue;
            }
            if zero {
                section.push('零');
                zero = false;
            }
            // 10-19 at the very start are read 十, 十一, ... (no 一).
            if !(place == 10 && d == 1 && section.is_empty() && out.is_empty()) {
                section.push(DIGIT[d as usize]);
            }
            section.push_str(name);
        }
        out.push_str(&section);
        out.push_str(unit);
        need_zero = false;
    }
    out
}

/// English words for a non-negative integer written in digits (e.g. `42` -> forty two).
pub fn english_number(digits: &str) -> String {
    const ONES: [&str; 20] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    const TENS: [&str; 10] = [
        "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    ];
    fn below_thousand(n: u64, out: &mut Vec<&'static str>) {
        if n >= 100 {
            out.push(ONES[(n / 100) as usize]);
            out.push("hundred");
        }
        let r = n % 100;
        if r >= 20 {
            out.push(TENS[(r / 10) as usize]);
            if !r.is_multiple_of(10) {
                out.push(ONES[(r % 10) as usize]);
            }
        } else if r > 0 || n == 0 {
            out.push(ONES[r as usize]);
        }
    }
    let n: u64 = match digits.parse() {
        Ok(n) if digits.len() <= 12 => n,
        _ => {
            let words: Vec<&str> = digits
                .chars()
                .filter_map(|d| d.to_digit(10))
                .map(|d| ONES[d as usize])
                .collect();
            return words.join(" ");
        }
    };
    let mut out = Vec::new();
    if n == 0 {
        below_thousand(0, &mut out);
    }
    for (scale, name) in [
        (1_000_000_000, "billion"),
        (1_000_000, "million"),
        (1000, "thousand"),
        (1, ""),
    ] {
        let part = (n / scale) % 1000;
        if part > 0 {
            below_thousand(part, &mut out);
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    out.join(" ")
}

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y')
}

/// Approximate syllables of one English word (vowel groups with the usual corrections).
pub fn english_word_syllables(word: &str) -> u64 {
    let w: Vec<char> = word
        .chars()
        .filter(|c| c.is_ascii_alphabetic())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if w.is_empty() {
        return 0;
    }
    let n = w.len();
    let mut groups = 0i64;
    let mut prev_vowel = false;
    for (i, &c) in w.iter().enumerate() {
        // `y` starting a word, or after a vowel, is a consonant.
        let vowel = is_vowel(c) && !(c == 'y' && (i == 0 || prev_vowel));
        if vowel && !prev_vowel {
            groups += 1;
        }
        prev_vowel = vowel;
    }
    let s: String = w.iter().collect();
    let consonant = |c: char| !is_vowel(c);
    // Silent final e ("make"), but not "-le" after a consonant ("table") or "-ee" ("free").
    if n > 2 && w[n - 1] == 'e' && consonant(w[n - 2]) && !(w[n - 2] == 'l' && consonant(w[n - 3]))
    {
        groups -= 1;
    }
    // "-es" and "-ed" add no syllable except after sibilants / t, d ("boxes", "wanted").
    if n > 3 && w[n - 2] == 'e' && consonant(w[n - 3]) {
        let before = w[n - 3];
        let silent = match w[n - 1] {
            's' => {
                !matches!(before, 's' | 'x' | 'z' | 'c' | 'g')
                    && !s.ends_with("ches")
                    && !s.ends_with("shes")
            }
            'd' => !matches!(before, 't' | 'd'),
            _ => false,
        };
        if silent {
            groups -= 1;
        }
    }
    // Vowel pairs that are two syllables ("idea", "radio").
    for pat in ["ia", "io", "iu", "ua", "eo", "ea"] {
        for (i, _) in s.match_indices(pat) {
            let split = match pat {
                // "-tion", "-sion", "-cial", "-shion": one syllable.
                "io" | "ia" => !(i > 0 && matches!(w[i - 1], 't' | 's' | 'c' | 'g' | 'x' | 'h')),
                // "idea", "area" but not "bread", "each", "great".
                "ea" => i + 2 == n && n > 3,
                "eo" => i > 0 && !matches!(w[i - 1], 'g' | 'p'),
                _ => i > 0 && w[i - 1] != 'q' && w[i - 1] != 'g',
            };
            if split {
                groups += 1;
            }
        }
    }
    groups.max(1) as u64
}

/// The transcript that belongs to a recording: `NAME.txt` in the same folder.
pub fn transcript_path(recording: &Path) -> PathBuf {
    recording.with_extension("txt")
}

/// Adds `rate.exact_syllables` and `rate.exact_speaking_rate_spm` when a transcript sits
/// beside the recording (both stay `null` otherwise, or when it cannot be read).
pub fn attach_exact(report: &mut CallReport, recording: &Path) {
    let path = transcript_path(recording);
    if path == recording {
        return;
    }
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let text = match std::fs::read(&path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(_) => {
                report
                    .warnings
                    .push(format!("transcript {name} is not UTF-8 text; ignored"));
                return;
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
        Err(e) => {
            report
                .warnings
                .push(format!("transcript {name} cannot be read ({e}); ignored"));
            return;
        }
    };
    let n = count_syllables(&text);
    if n == 0 {
        report
            .warnings
            .push(format!("transcript {name} holds no syllables; ignored"));
        return;
    }
    let talk_s = report.speech.as_ref().map_or(0.0, |s| s.talk_time_s);
    if let Some(rate) = &mut report.rate {
        rate.exact_syllables = Some(n);
        rate.exact_speaking_rate_spm = (talk_s > 0.5).then(|| round3(n as f64 * 60.0 / talk_s));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_characters_count_one_each_and_punctuation_none() {
        assert_eq!(count_syllables("您好，请问有什么可以帮您？"), 11);
        assert_eq!(count_syllables("娱乐反斗星"), 5);
        assert_eq!(count_syllables(""), 0);
    }

    #[test]
    fn mandarin_numbers_are_read_out() {
        assert_eq!(mandarin_number("0"), "零");
        assert_eq!(mandarin_number("10"), "十");
        assert_eq!(mandarin_number("15"), "十五");
        assert_eq!(mandarin_number("20"), "二十");
        assert_eq!(mandarin_number("105"), "一百零五");
        assert_eq!(mandarin_number("110"), "一百一十");
        assert_eq!(mandarin_number("2023"), "二千零二十三");
        assert_eq!(mandarin_number("10005"), "一万零五");
        assert_eq!(mandarin_number("120000"), "十二万");
        // In text: a year digit by digit, a quantity read out, a phone number digit by digit.
        assert_eq!(count_syllables("2023年"), 5);
        assert_eq!(count_syllables("共105元"), 6);
        assert_eq!(count_syllables("拨打01012345678"), 13);
        assert_eq!(count_syllables("涨了3.5%"), 2 + 3 + 3);
    }

    #[test]
    fn english_words_by_vowel_groups() {
        for (word, n) in [
            ("the", 1),
            ("make", 1),
            ("table", 2),
            ("people", 2),
            ("walked", 1),
            ("wanted", 2),
            ("makes", 1),
            ("boxes", 2),
            ("beautiful", 3),
            ("yes", 1),
            ("idea", 3),
            ("radio", 3),
            ("nation", 2),
            ("area", 3),
            ("great", 1),
            ("tea", 1),
            ("cushion", 2),
            ("free", 1),
            ("printing", 2),
            ("arts", 1),
        ] {
            assert_eq!(english_word_syllables(word), n, "{word}");
        }
        assert_eq!(count_syllables("Thank you for calling."), 5);
        assert_eq!(english_number("42"), "forty two");
        assert_eq!(english_number("1905"), "one thousand nine hundred five");
        assert_eq!(count_syllables("42"), 3);
    }

    #[test]
    fn exact_figures_come_from_the_transcript_beside_the_recording() {
        use crate::report::model::{RateReport, SpeechReport};
        let dir = tempfile::tempdir().expect("temp dir");
        let wav = dir.path().join("call.wav");
        let base = CallReport {
            rate: Some(RateReport::default()),
            speech: Some(SpeechReport {
                talk_time_s: 6.0,
                ..SpeechReport::default()
            }),
            ..CallReport::default()
        };
        let mut without = base.clone();
        attach_exact(&mut without, &wav);
        assert_eq!(without.rate.as_ref().and_then(|r| r.exact_syllables), None);
        std::fs::write(dir.path().join("call.txt"), "您好，欢迎致电。\n").expect("write");
        let mut with = base;
        attach_exact(&mut with, &wav);
        let rate = with.rate.expect("rate");
        assert_eq!(rate.exact_syllables, Some(6));
        assert_eq!(rate.exact_speaking_rate_spm, Some(60.0));
    }

    #[test]
    fn empty_or_binary_transcripts_are_ignored_with_a_warning() {
        use crate::report::model::{RateReport, SpeechReport};
        let dir = tempfile::tempdir().expect("temp dir");
        let wav = dir.path().join("call.wav");
        let base = CallReport {
            rate: Some(RateReport::default()),
            speech: Some(SpeechReport {
                talk_time_s: 6.0,
                ..SpeechReport::default()
            }),
            ..CallReport::default()
        };
        // Empty; a UTF-8 character cut in half (a truncated file); random bytes.
        let cut = &"您好".as_bytes()[..4];
        for (bytes, reason) in [
            (&b""[..], "no syllables"),
            (cut, "not UTF-8"),
            (&[0xff, 0xfe, 0x00, 0x80][..], "not UTF-8"),
        ] {
            std::fs::write(dir.path().join("call.txt"), bytes).expect("write");
            let mut report = base.clone();
            attach_exact(&mut report, &wav);
            assert_eq!(report.rate.as_ref().and_then(|r| r.exact_syllables), None);
            assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
            assert!(report.warnings[0].contains(reason), "{:?}", report.warnings);
        }
    }
}
