//! Fonts for the plots, found with `fontdb` (no fontconfig libraries needed).
//!
//! plotters measures text with one registered font (`sans-serif`). A font with Chinese
//! glyphs is preferred (it has Latin letters too); otherwise a Latin sans-serif font is used.
//! SVG plots only need the font to measure text: the browser draws the `<text>` with its own
//! fonts, so Chinese names render there whatever is registered. PNG plots draw the glyphs
//! themselves: without a Chinese font, names it cannot draw are replaced (see [`png_text`])
//! and [`FontStatus::note`] says so.

use std::sync::OnceLock;

use ab_glyph::Font;

/// What font the plots use.
#[derive(Debug)]
pub struct FontStatus {
    /// The registered family's name, when a usable font was found.
    pub family: Option<String>,
    /// The registered font has Chinese glyphs.
    pub cjk: bool,
    /// A note for the report when something is missing.
    pub note: Option<String>,
    font: Option<ab_glyph::FontRef<'static>>,
}

impl FontStatus {
    /// True when the registered font can draw every visible character of `text`.
    pub fn renders(&self, text: &str) -> bool {
        match &self.font {
            Some(f) => text
                .chars()
                .filter(|c| !c.is_whitespace() && !c.is_control())
                .all(|c| f.glyph_id(c).0 != 0),
            None => false,
        }
    }
}

/// Families that are sans-serif and hold Chinese glyphs, most preferred first.
const CJK_FAMILIES: &[&str] = &[
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
    "Noto Sans CJK JP",
    "AR PL UMing CN",
];

/// Latin sans-serif families, most preferred first.
const LATIN_FAMILIES: &[&str] = &[
    "DejaVu Sans",
    "Liberation Sans",
    "Noto Sans",
    "Arial",
    "Helvetica",
    "FreeSans",
];

fn load(db: &fontdb::Database, face: &fontdb::FaceInfo) -> Option<&'static [u8]> {
    if face.index != 0 {
        // plotters registers the first face of a file only.
        return None;
    }
    let bytes = db.with_face_data(face.id, |data, _| data.to_vec())?;
    ab_glyph::FontRef::try_from_slice(&bytes).ok()?;
    Some(Box::leak(bytes.into_boxed_slice()))
}

fn family_rank(face: &fontdb::FaceInfo, list: &[&str]) -> Option<usize> {
    face.families
        .iter()
        .filter_map(|(name, _)| list.iter().position(|f| f.eq_ignore_ascii_case(name)))
        .min()
}

fn regular(face: &fontdb::FaceInfo) -> bool {
    face.style == fontdb::Style::Normal && face.weight == fontdb::Weight::NORMAL && !face.monospaced
}

fn find() -> FontStatus {
    let mut db = fontdb::Database::new();
    db.load_system_fonts();
    let mut faces: Vec<&fontdb::FaceInfo> = db.faces().filter(|f| regular(f)).collect();
    faces.sort_by_key(|f| {
        (
            family_rank(f, CJK_FAMILIES).unwrap_or(usize::MAX),
            family_rank(f, LATIN_FAMILIES).unwrap_or(usize::MAX),
        )
    });
    let mut latin: Option<(String, &'static [u8])> = None;
    for face in &faces {
        let named_cjk = family_rank(face, CJK_FAMILIES).is_some();
        let named_latin = family_rank(face, LATIN_FAMILIES).is_some();
        if !named_cjk && (latin.is_some() || !named_latin) {
            continue;
        }
        let Some(bytes) = load(&db, face) else {
            continue;
        };
        let name = face
            .families
            .first()
            .map(|f| f.0.clone())
            .unwrap_or_default();
        let has_cjk = ab_glyph::FontRef::try_from_slice(bytes)
            .map(|f| f.glyph_id('中').0 != 0 && f.glyph_id('A').0 != 0)
            .unwrap_or(false);
        if has_cjk {
            return register(name, bytes, true);
        }
        if latin.is_none() {
            latin = Some((name, bytes));
        }
    }
    // No named Latin font: any regular face that parses.
    if latin.is_none() {
        latin = faces
            .iter()
            .find_map(|f| load(&db, f).map(|b| (f.families[0].0.clone(), b)));
    }
    match latin {
        Some((name, bytes)) => register(name, bytes, false),
        None => FontStatus {
            family: None,
            cjk: false,
            note: Some(
                "no TrueType font found, so the plots are left out (install one, e.g. \
                 `apt-get install fonts-dejavu-core fonts-wqy-microhei`)"
                    .into(),
            ),
            font: None,
        },
    }
}

fn register(name: String, bytes: &'static [u8], cjk: bool) -> FontStatus {
    let font = ab_glyph::FontRef::try_from_slice(bytes).ok();
    let ok =
        plotters::style::register_font("sans-serif", plotters::style::FontStyle::Normal, bytes)
            .is_ok();
    FontStatus {
        family: ok.then_some(name),
        cjk,
        note: (!cjk).then(|| {
            "no Chinese font found: PNG plots show agents whose names it cannot draw as \
             `agent N`, N being the row in the team table of index.html (the HTML shows every \
             name; install e.g. fonts-wqy-microhei or fonts-noto-cjk for Chinese in PNGs)"
                .to_string()
        }),
        font: font.filter(|_| ok),
    }
}

/// Finds and registers the plot font once per process.
pub fn status() -> &'static FontStatus {
    static STATUS: OnceLock<FontStatus> = OnceLock::new();
    STATUS.get_or_init(find)
}

/// Text for a PNG: `text` itself when the font can draw it, else `fallback`.
pub fn png_text(text: &str, fallback: &str) -> String {
    if status().renders(text) {
        text.to_string()
    } else {
        fallback.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_font_is_found_and_covers_latin() {
        let s = status();
        // Debian test machines carry DejaVu; if not, the note must say what to install.
        match &s.family {
            Some(_) => {
                assert!(s.renders("Speaking rate 120 /min"));
                assert_eq!(s.renders("张伟"), s.cjk);
                assert_eq!(png_text("张伟", "agent 1") == "张伟", s.cjk);
            }
            None => assert!(s.note.as_deref().unwrap_or("").contains("install")),
        }
    }
}
