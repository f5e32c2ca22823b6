//! Chinese segmentation: jieba-rs with its general dictionary, plus a domain dictionary made of the
//! catalog's names (items, materials, licence types, bundles, themes) and the vocabulary's words.
//!
//! Words come from jieba's search mode (a long word and the shorter dictionary words inside it), plus
//! every domain word found inside a longer word: "城乡居民基本医疗保险参保登记" also yields "医疗保险",
//! which the search mode alone (two- and three-character pieces only) would miss.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use jieba_rs::Jieba;

/// The general dictionary is large; it is loaded once per process and copied per assistant.
fn general() -> &'static Jieba {
    static GENERAL: OnceLock<Jieba> = OnceLock::new();
    GENERAL.get_or_init(Jieba::new)
}

/// Half-width letters and digits, lower case, full-width punctuation folded: the form in which
/// queries, catalog text and vocabulary words are compared.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let folded = match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        };
        out.extend(folded.to_lowercase());
    }
    out
}

/// Whether a piece of text is a word worth indexing (not punctuation or spaces).
fn is_word(piece: &str) -> bool {
    piece.chars().any(char::is_alphanumeric)
}

/// The longest domain word looked for inside a longer word.
const MAX_INNER_WORD: usize = 8;

#[derive(Debug, Clone)]
pub struct Segmenter {
    jieba: Jieba,
    domain: BTreeSet<String>,
}

impl Segmenter {
    /// A segmenter that knows these domain words (normalised; shorter than two characters ignored).
    pub fn new<'a>(words: impl IntoIterator<Item = &'a str>) -> Segmenter {
        let mut jieba = general().clone();
        let mut domain = BTreeSet::new();
        for word in words {
            let normal = normalise(word.trim());
            if normal.chars().count() < 2 || !is_word(&normal) || normal.contains(' ') {
                continue;
            }
            if !jieba.has_word(&normal) {
                jieba.add_word(&normal, None, None);
            }
            domain.insert(normal);
        }
        Segmenter { jieba, domain }
    }

    /// Whether a word is in the domain dictionary.
    pub fn knows(&self, word: &str) -> bool {
        self.domain.contains(word)
    }

    /// The words of a text, in order, repeats kept (for term frequencies). The text is normalised
    /// first.
    pub fn words(&self, text: &str) -> Vec<String> {
        self.word_groups(text).into_iter().flatten().collect()
    }

    /// The words of a text grouped by the word they come from: each group holds one word of the
    /// precise segmentation first, then the dictionary words inside it (jieba's search mode gives
    /// the two- and three-character ones; domain words of four or more characters are added
    /// here). A question scores each group once, so "取出来" does not count again as "取出" and "出来".
    pub fn word_groups(&self, text: &str) -> Vec<Vec<String>> {
        let normal = normalise(text);
        let pieces = self.jieba.cut_for_search(&normal, true);
        let mut groups = Vec::new();
        for token in self.jieba.cut(&normal, true) {
            if !is_word(token.word) {
                continue;
            }
            let mut group = vec![token.word.to_owned()];
            for piece in &pieces {
                let inside = piece.start >= token.start && piece.end <= token.end;
                let same = piece.start == token.start && piece.end == token.end;
                if inside && !same && is_word(piece.word) {
                    group.push(piece.word.to_owned());
                }
            }
            let chars: Vec<char> = token.word.chars().collect();
            if chars.len() > 4 {
                for start in 0..chars.len() {
                    let longest = MAX_INNER_WORD.min(chars.len() - start);
                    for length in 4..=longest {
                        if start == 0 && length == chars.len() {
                            continue;
                        }
                        let inner: String = chars[start..start + length].iter().collect();
                        if self.domain.contains(&inner) && !group.contains(&inner) {
                            group.push(inner);
                        }
                    }
                }
            }
            groups.push(group);
        }
        groups
    }
}

/// Splits a catalog name into the parts worth adding to the dictionary: "出生登记(户口登记)" gives
/// "出生登记" and "户口登记"; "就业登记/失业登记" gives both halves.
pub fn name_parts(name: &str) -> Vec<String> {
    normalise(name)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|part| part.chars().count() >= 2)
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_word_stays_whole() {
        let plain = Segmenter::new([]);
        let domain = Segmenter::new(["食品经营许可证"]);
        assert!(
            !plain
                .words("申请食品经营许可证")
                .contains(&"食品经营许可证".to_owned()),
            "the general dictionary alone splits it"
        );
        assert!(
            domain
                .words("申请食品经营许可证")
                .contains(&"食品经营许可证".to_owned()),
            "the domain dictionary keeps it whole"
        );
    }

    #[test]
    fn domain_words_inside_a_long_name_are_found() {
        let segmenter = Segmenter::new(["城乡居民基本医疗保险参保登记", "医疗保险"]);
        let words = segmenter.words("城乡居民基本医疗保险参保登记");
        assert!(words.contains(&"城乡居民基本医疗保险参保登记".to_owned()));
        assert!(words.contains(&"医疗保险".to_owned()), "{words:?}");
        assert!(words.contains(&"参保".to_owned()), "{words:?}");
    }

    #[test]
    fn everyday_words_from_the_vocabulary_are_single_words() {
        let segmenter = Segmenter::new(["上户口", "小饭馆"]);
        let words = segmenter.words("给闺女上户口");
        assert!(words.contains(&"上户口".to_owned()), "{words:?}");
        let words = segmenter.words("盘下一个小饭馆");
        assert!(words.contains(&"小饭馆".to_owned()), "{words:?}");
    }

    #[test]
    fn punctuation_and_spaces_are_not_words() {
        let segmenter = Segmenter::new([]);
        let words = segmenter.words("驾照,  丢了!?");
        assert!(words.iter().all(|w| w.chars().any(char::is_alphanumeric)));
        assert!(words.contains(&"驾照".to_owned()), "{words:?}");
    }

    #[test]
    fn full_width_text_is_normalised() {
        assert_eq!(normalise("ＡＢＣ１２３ 办证"), "abc123 办证");
    }

    #[test]
    fn names_are_split_at_punctuation() {
        assert_eq!(name_parts("出生登记(户口登记)"), ["出生登记", "户口登记"]);
        assert_eq!(name_parts("就业登记/失业登记"), ["就业登记", "失业登记"]);
        assert_eq!(
            name_parts("公众聚集场所投入使用、营业前消防安全检查"),
            ["公众聚集场所投入使用", "营业前消防安全检查"]
        );
    }
}
