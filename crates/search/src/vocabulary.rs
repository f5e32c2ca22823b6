//! The everyday vocabulary (`data/search/synonyms.toml`): synonym groups, stopwords, the phrases that
//! ask for a whole life event, and extra dictionary words. It is data so that it can grow without code
//! changes; [`Vocabulary::parse`] checks it once when the assistant is built.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::SearchError;
use crate::segment::normalise;

/// The vocabulary that ships inside the binary.
pub const BUILT_IN: &str = include_str!("../../../data/search/synonyms.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VocabularyFile {
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    several: Vec<String>,
    #[serde(default)]
    variants: Vec<String>,
    #[serde(default)]
    words: Vec<String>,
    #[serde(default)]
    groups: Vec<Vec<String>>,
}

/// A checked vocabulary.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    stopwords: BTreeSet<String>,
    several: Vec<String>,
    variants: Vec<String>,
    words: Vec<String>,
    groups: Vec<Vec<String>>,
    /// Word → the groups it belongs to.
    groups_of: BTreeMap<String, Vec<u32>>,
}

impl Vocabulary {
    /// The vocabulary embedded from `data/search/synonyms.toml`.
    pub fn built_in() -> Result<Vocabulary, SearchError> {
        Vocabulary::parse(BUILT_IN)
    }

    /// Reads a vocabulary file. Every word is normalised the way queries are (half-width, lower
    /// case); a group needs at least two words and may not list a word twice.
    pub fn parse(text: &str) -> Result<Vocabulary, SearchError> {
        let file: VocabularyFile =
            toml::from_str(text).map_err(|e| SearchError::Vocabulary(e.to_string()))?;
        let clean = |word: &str| -> Result<String, SearchError> {
            let normal = normalise(word);
            if normal.trim().is_empty() {
                return Err(SearchError::Vocabulary("an empty word".into()));
            }
            Ok(normal)
        };
        let mut vocabulary = Vocabulary::default();
        for word in &file.stopwords {
            vocabulary.stopwords.insert(clean(word)?);
        }
        for phrase in &file.several {
            vocabulary.several.push(clean(phrase)?);
        }
        for word in &file.variants {
            vocabulary.variants.push(clean(word)?);
        }
        for word in &file.words {
            vocabulary.words.push(clean(word)?);
        }
        for (index, group) in file.groups.iter().enumerate() {
            if group.len() < 2 {
                return Err(SearchError::Vocabulary(format!(
                    "group {} ({}) has fewer than two words",
                    index + 1,
                    group.join("/")
                )));
            }
            let mut seen = BTreeSet::new();
            let mut words = Vec::with_capacity(group.len());
            for word in group {
                let normal = clean(word)?;
                if !seen.insert(normal.clone()) {
                    return Err(SearchError::Vocabulary(format!(
                        "group {} lists {normal} twice",
                        index + 1
                    )));
                }
                let id = u32::try_from(index)
                    .map_err(|_| SearchError::Vocabulary("too many groups".into()))?;
                vocabulary
                    .groups_of
                    .entry(normal.clone())
                    .or_default()
                    .push(id);
                words.push(normal);
            }
            vocabulary.groups.push(words);
        }
        Ok(vocabulary)
    }

    pub fn is_stopword(&self, word: &str) -> bool {
        self.stopwords.contains(word)
    }

    /// The groups a word belongs to (empty for a word without synonyms).
    pub fn groups_of(&self, word: &str) -> &[u32] {
        self.groups_of.get(word).map_or(&[], Vec::as_slice)
    }

    /// The words of a group, the first being the one shown in explanations.
    pub fn group(&self, id: u32) -> &[String] {
        self.groups.get(id as usize).map_or(&[], Vec::as_slice)
    }

    /// Every word that names something (group words and extra words), for the segmenter.
    pub fn dictionary_words(&self) -> impl Iterator<Item = &str> {
        self.words
            .iter()
            .chain(self.groups.iter().flatten())
            .map(String::as_str)
    }

    /// Whether the (normalised) query asks for everything a life event needs.
    pub fn asks_for_several(&self, query: &str) -> bool {
        self.several.iter().any(|phrase| query.contains(phrase))
    }

    /// The variant words (注销, 补证 …) found in a name.
    pub fn variants_in<'a>(&'a self, name: &str) -> Vec<&'a str> {
        self.variants
            .iter()
            .filter(|word| name.contains(word.as_str()))
            .map(String::as_str)
            .collect()
    }

    /// All synonyms of a word (the word itself excluded), for explanations and tests.
    pub fn synonyms_of(&self, word: &str) -> BTreeSet<&str> {
        let mut all = BTreeSet::new();
        for &id in self.groups_of(word) {
            for other in self.group(id) {
                if other != word {
                    all.insert(other.as_str());
                }
            }
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_vocabulary_parses() {
        let vocabulary = Vocabulary::built_in().expect("the shipped synonyms.toml is valid");
        assert!(vocabulary.groups.len() > 80, "a broad everyday vocabulary");
        assert!(vocabulary.is_stopword("怎么"));
    }

    #[test]
    fn everyday_words_expand_to_their_formal_names() {
        let vocabulary = Vocabulary::built_in().expect("valid");
        let pairs = [
            ("户口", "户籍"),
            ("户口", "落户"),
            ("社保卡", "社会保障卡"),
            ("医保", "医疗保险"),
            ("驾照", "驾驶证"),
            ("公积金", "住房公积金"),
            ("生孩子", "新生儿"),
            ("去世", "身后"),
            ("饭馆", "餐饮店"),
            ("开公司", "企业开办"),
        ];
        for (everyday, formal) in pairs {
            assert!(
                vocabulary.synonyms_of(everyday).contains(formal),
                "{everyday} should expand to {formal}"
            );
            assert!(
                vocabulary.synonyms_of(formal).contains(everyday),
                "synonymy is symmetric: {formal} → {everyday}"
            );
        }
    }

    #[test]
    fn a_word_may_belong_to_several_groups() {
        let vocabulary = Vocabulary::built_in().expect("valid");
        let synonyms = vocabulary.synonyms_of("生孩子");
        assert!(synonyms.contains("出生"), "a birth word");
        assert!(synonyms.contains("生育"), "and a maternity word");
    }

    #[test]
    fn a_group_of_one_word_is_refused() {
        let error = Vocabulary::parse("groups = [[\"户口\"]]").expect_err("one word is no group");
        assert!(error.to_string().contains("fewer than two"), "{error}");
    }

    #[test]
    fn a_word_listed_twice_in_a_group_is_refused() {
        let error =
            Vocabulary::parse("groups = [[\"户口\", \"户籍\", \"户口\"]]").expect_err("duplicate");
        assert!(error.to_string().contains("twice"), "{error}");
    }

    #[test]
    fn full_width_letters_are_normalised_like_queries() {
        let vocabulary = Vocabulary::parse("groups = [[\"ＡＢＣ\", \"甲\"]]").expect("valid");
        assert!(vocabulary.synonyms_of("abc").contains("甲"));
    }

    #[test]
    fn a_life_event_question_is_recognised() {
        let vocabulary = Vocabulary::built_in().expect("valid");
        assert!(vocabulary.asks_for_several("搬家以后要办哪些手续"));
        assert!(!vocabulary.asks_for_several("补办驾照"));
    }
}
