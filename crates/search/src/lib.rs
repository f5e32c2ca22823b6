//! The one-sentence assistant (一句话办事, SPEC C9): a citizen types one sentence in plain Chinese —
//! "家里添了个孩子,要跑哪些部门" — and gets the bundles (一件事) and items that fit, ranked, with the words
//! that matched and the first step to take. Everything runs offline inside the binary.
//!
//! How a sentence is understood:
//! 1. [`segment`]: jieba-rs segments it, with a domain dictionary built from the catalog's item,
//!    material, licence-type, theme and bundle names and the vocabulary's everyday words.
//! 2. [`vocabulary`]: each word is looked up in the everyday synonym groups of
//!    `data/search/synonyms.toml` (驾照 → 驾驶证, 饭馆 → 餐饮店, 去世 → 身后 …); stopwords go.
//! 3. [`index`]: a BM25F index over the published items and bundles (names, aliases, results,
//!    summaries, conditions, FAQ, situational questions, materials, themes; for bundles also their
//!    members) scores each word as itself and as each of its synonym groups, keeping the best.
//! 4. Ranking adds a bonus when a name or alias appears whole in the sentence (or the sentence in
//!    it) and prefers bundles when the sentence asks for everything a life event needs ("要办哪些
//!    手续") and a bundle fits as well as its members.
//!
//! The assistant is built from a catalog snapshot and is immutable: the server builds a new one
//! whenever the catalog changes and swaps it in.
//!
//! ```
//! use tongban_domain::catalog::CatalogDocument;
//! use tongban_search::Assistant;
//!
//! let assistant = Assistant::build(&CatalogDocument::default()).expect("the built-in vocabulary is valid");
//! assert!(assistant.ask("驾照丢了", 3).is_empty(), "an empty catalog answers nothing");
//! ```

pub mod eval;
pub mod index;
pub mod segment;
pub mod vocabulary;

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;
use tongban_domain::catalog::{BundleDefinition, CatalogDocument, ItemDefinition, Requirement};

use crate::index::{EntryTerms, Field, Index};
use crate::segment::{Segmenter, name_parts, normalise};
use crate::vocabulary::Vocabulary;

/// The longest question accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 100;

/// A synonym counts a little less than the word itself.
const SYNONYM_FACTOR: f32 = 0.8;
/// A dictionary word inside a longer word of the question ("幼儿" in "上幼儿园") is a fallback for
/// when the longer word finds nothing; it counts less than the word the citizen wrote.
const PIECE_FACTOR: f32 = 0.6;
/// Weight of a name or alias found whole in the sentence.
const PHRASE_BONUS: f32 = 4.0;
/// How much a bundle gains when the sentence asks for a whole life event.
const SEVERAL_FACTOR: f32 = 1.35;
/// An entry whose name marks a variant (注销, 补证 …) the question does not ask for.
const VARIANT_FACTOR: f32 = 0.85;
/// Answers below this share of the best score are left out.
const CUT_OFF: f32 = 0.15;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("the search vocabulary is invalid: {0}")]
    Vocabulary(String),
}

/// What an answer points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerKind {
    Item,
    Bundle,
}

impl AnswerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AnswerKind::Item => "item",
            AnswerKind::Bundle => "bundle",
        }
    }
}

/// One ranked answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    pub kind: AnswerKind,
    /// The item's implementation code or the bundle's code.
    pub code: String,
    pub name: String,
    pub score: f32,
    /// The words of the sentence that matched, as the citizen wrote them.
    pub why: Vec<String>,
    /// What to do first: the first step of the guide, or what to prepare for a bundle.
    pub first_step: String,
    /// Where to apply online, when the item can be applied for online.
    pub online_address: Option<String>,
}

#[derive(Debug, Clone)]
struct Entry {
    kind: AnswerKind,
    code: String,
    name: String,
    /// Normalised name parts and aliases, for whole-phrase matches.
    phrases: Vec<String>,
    /// Variant words in the name (注销, 补证 …).
    variants: Vec<String>,
    first_step: String,
    online_address: Option<String>,
}

/// The assistant over one catalog snapshot.
#[derive(Debug, Clone)]
pub struct Assistant {
    vocabulary: Vocabulary,
    segmenter: Segmenter,
    entries: Vec<Entry>,
    index: Index,
}

/// One word of the question with the terms it may match.
#[derive(Debug)]
struct QueryWord {
    surface: String,
    groups: Vec<u32>,
}

impl Assistant {
    /// Builds the assistant over the published items and bundles of a catalog, with the built-in
    /// vocabulary.
    pub fn build(catalog: &CatalogDocument) -> Result<Assistant, SearchError> {
        Ok(Assistant::with_vocabulary(catalog, Vocabulary::built_in()?))
    }

    /// Builds the assistant with a given vocabulary (tests, experiments).
    pub fn with_vocabulary(catalog: &CatalogDocument, vocabulary: Vocabulary) -> Assistant {
        let segmenter = Segmenter::new(
            domain_words(catalog, &vocabulary)
                .iter()
                .map(String::as_str),
        );
        let mut assistant = Assistant {
            vocabulary,
            segmenter,
            entries: Vec::new(),
            index: Index::default(),
        };
        let theme_names: HashMap<&str, &str> = catalog
            .themes
            .iter()
            .map(|t| (t.key.as_str(), t.name.as_str()))
            .collect();
        let mut terms = Vec::new();
        for item in &catalog.items {
            terms.push(assistant.item_terms(item, &theme_names));
            assistant.entries.push(item_entry(item));
        }
        for bundle in &catalog.bundles {
            terms.push(assistant.bundle_terms(bundle, catalog, &theme_names));
            assistant.entries.push(bundle_entry(bundle, catalog));
        }
        for entry in &mut assistant.entries {
            entry.variants = assistant
                .vocabulary
                .variants_in(&entry.name)
                .into_iter()
                .map(str::to_owned)
                .collect();
        }
        assistant.index = Index::build(&terms);
        assistant
    }

    /// How many items and bundles the assistant knows.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    /// The words the assistant sees in a sentence (stopwords removed), for explanations and tests.
    pub fn understand(&self, query: &str) -> Vec<String> {
        self.query_parts(query)
            .into_iter()
            .filter_map(|part| part.into_iter().next().map(|w| w.surface))
            .collect()
    }

    /// The best answers for a sentence, best first, at most `limit`.
    pub fn ask(&self, query: &str, limit: usize) -> Vec<Answer> {
        let normal = normalise(query);
        let compact: String = normal.chars().filter(|c| c.is_alphanumeric()).collect();
        if compact.is_empty() || limit == 0 || self.entries.is_empty() {
            return Vec::new();
        }
        let parts = self.query_parts(&normal);
        let count = self.entries.len();
        let mut scores = vec![0.0f32; count];
        let mut matched: Vec<Vec<&str>> = vec![Vec::new(); count];
        let mut best = vec![0.0f32; count];
        let mut best_word = vec![0usize; count];
        for part in &parts {
            best.iter_mut().for_each(|b| *b = 0.0);
            for (position, word) in part.iter().enumerate() {
                let factor = if position == 0 { 1.0 } else { PIECE_FACTOR };
                let mut keep = |entry: usize, raw: f32| {
                    let score = raw * factor;
                    if score > best[entry] {
                        best[entry] = score;
                        best_word[entry] = position;
                    }
                };
                self.index.score_term(&word.surface, &mut keep);
                for &group in &word.groups {
                    self.index.score_term(&group_term(group), |entry, score| {
                        keep(entry, score * SYNONYM_FACTOR);
                    });
                }
            }
            for entry in 0..count {
                if best[entry] > 0.0 {
                    scores[entry] += best[entry];
                    if let Some(word) = part.get(best_word[entry]) {
                        matched[entry].push(word.surface.as_str());
                    }
                }
            }
        }
        let compact_chars = compact.chars().count() as f32;
        let several = self.vocabulary.asks_for_several(&normal);
        for (entry, data) in self.entries.iter().enumerate() {
            let mut bonus = 0.0f32;
            for phrase in &data.phrases {
                let phrase_chars = phrase.chars().count() as f32;
                if phrase_chars < 2.0 {
                    continue;
                }
                if compact.contains(phrase.as_str()) {
                    bonus = bonus.max(PHRASE_BONUS * phrase_chars / compact_chars);
                } else if compact_chars >= 2.0 && phrase.contains(compact.as_str()) {
                    bonus = bonus.max(PHRASE_BONUS * compact_chars / phrase_chars);
                }
            }
            if scores[entry] > 0.0 || bonus > 0.0 {
                scores[entry] += bonus;
            }
            if !data.variants.is_empty() && !self.asks_for_variant(&parts, &data.variants) {
                scores[entry] *= VARIANT_FACTOR;
            }
            if several && data.kind == AnswerKind::Bundle {
                scores[entry] *= SEVERAL_FACTOR;
            }
        }
        let mut ranked: Vec<usize> = (0..count).filter(|&e| scores[e] > 0.0).collect();
        ranked.sort_by(|&a, &b| {
            scores[b]
                .total_cmp(&scores[a])
                .then_with(|| {
                    kind_order(self.entries[a].kind).cmp(&kind_order(self.entries[b].kind))
                })
                .then_with(|| self.entries[a].code.cmp(&self.entries[b].code))
        });
        let top = ranked.first().map_or(0.0, |&e| scores[e]);
        ranked
            .into_iter()
            .filter(|&e| scores[e] >= top * CUT_OFF)
            .take(limit)
            .map(|e| {
                let data = &self.entries[e];
                let mut why: Vec<String> = Vec::new();
                for word in &matched[e] {
                    if !why.iter().any(|w| w == word) {
                        why.push((*word).to_owned());
                    }
                }
                Answer {
                    kind: data.kind,
                    code: data.code.clone(),
                    name: data.name.clone(),
                    score: (scores[e] * 100.0).round() / 100.0,
                    why,
                    first_step: data.first_step.clone(),
                    online_address: data.online_address.clone(),
                }
            })
            .collect()
    }

    /// Whether some word of the question is one of these variant words or shares a synonym group
    /// with one (丢了 asks for 补证, 到期 for 期满).
    fn asks_for_variant(&self, parts: &[Vec<QueryWord>], variants: &[String]) -> bool {
        parts.iter().flatten().any(|word| {
            variants.iter().any(|variant| {
                word.surface == *variant
                    || self
                        .vocabulary
                        .groups_of(variant)
                        .iter()
                        .any(|group| word.groups.contains(group))
            })
        })
    }

    /// The parts of a question: each word of the precise segmentation with the dictionary words
    /// inside it, stopwords and repeats left out.
    fn query_parts(&self, query: &str) -> Vec<Vec<QueryWord>> {
        let mut seen = BTreeSet::new();
        let mut parts = Vec::new();
        for group in self.segmenter.word_groups(query) {
            let Some(whole) = group.first() else {
                continue;
            };
            if self.vocabulary.is_stopword(whole) || !seen.insert(whole.clone()) {
                continue;
            }
            let mut part = Vec::new();
            for word in group {
                if self.vocabulary.is_stopword(&word) {
                    continue;
                }
                let groups = self.vocabulary.groups_of(&word).to_vec();
                part.push(QueryWord {
                    surface: word,
                    groups,
                });
            }
            parts.push(part);
        }
        parts
    }

    /// The terms of a text: each word, and each synonym group it belongs to.
    fn terms(&self, text: &str) -> Vec<String> {
        let mut terms = Vec::new();
        for word in self.segmenter.words(text) {
            if self.vocabulary.is_stopword(&word) {
                continue;
            }
            for &group in self.vocabulary.groups_of(&word) {
                terms.push(group_term(group));
            }
            terms.push(word);
        }
        terms
    }

    fn item_terms(&self, item: &ItemDefinition, themes: &HashMap<&str, &str>) -> EntryTerms {
        let mut terms = EntryTerms::default();
        terms.add(Field::Name, self.terms(&item.name));
        for alias in &item.aliases {
            terms.add(Field::Alias, self.terms(alias));
        }
        terms.add(Field::Result, self.terms(&item.result.name));
        terms.add(Field::Guide, self.terms(&item.summary));
        for condition in &item.conditions {
            terms.add(Field::Guide, self.terms(condition));
        }
        for faq in &item.faq {
            terms.add(Field::Guide, self.terms(&faq.question));
        }
        for question in &item.questions {
            terms.add(Field::Guide, self.terms(&question.text));
            for option in &question.options {
                terms.add(Field::Guide, self.terms(&option.label));
            }
        }
        for material in &item.materials {
            terms.add(Field::Material, self.terms(&material.name));
        }
        for theme in &item.themes {
            if let Some(name) = themes.get(theme.as_str()) {
                terms.add(Field::Theme, self.terms(name));
            }
        }
        terms
    }

    fn bundle_terms(
        &self,
        bundle: &BundleDefinition,
        catalog: &CatalogDocument,
        themes: &HashMap<&str, &str>,
    ) -> EntryTerms {
        let mut terms = EntryTerms::default();
        terms.add(Field::Name, self.terms(&bundle.name));
        for alias in &bundle.aliases {
            terms.add(Field::Alias, self.terms(alias));
        }
        terms.add(Field::Guide, self.terms(&bundle.summary));
        for line in &bundle.eligibility {
            terms.add(Field::Guide, self.terms(line));
        }
        for faq in &bundle.faq {
            terms.add(Field::Guide, self.terms(&faq.question));
        }
        for question in &bundle.questions {
            terms.add(Field::Guide, self.terms(&question.text));
        }
        for stage in &bundle.stages {
            terms.add(Field::Guide, self.terms(&stage.name));
        }
        for member in &bundle.members {
            if let Some(item) = catalog.item(&member.item) {
                terms.add(Field::Member, self.terms(&item.name));
            }
        }
        for theme in &bundle.themes {
            if let Some(name) = themes.get(theme.as_str()) {
                terms.add(Field::Theme, self.terms(name));
            }
        }
        terms
    }
}

fn kind_order(kind: AnswerKind) -> u8 {
    match kind {
        AnswerKind::Bundle => 0,
        AnswerKind::Item => 1,
    }
}

fn group_term(group: u32) -> String {
    format!("~{group}")
}

/// The domain dictionary: catalog names split at punctuation, plus the vocabulary's words.
fn domain_words(catalog: &CatalogDocument, vocabulary: &Vocabulary) -> BTreeSet<String> {
    let mut words = BTreeSet::new();
    let mut add = |name: &str| {
        for part in name_parts(name) {
            words.insert(part);
        }
    };
    for item in &catalog.items {
        add(&item.name);
        add(&item.result.name);
        for material in &item.materials {
            add(&material.name);
        }
    }
    for bundle in &catalog.bundles {
        add(&bundle.name);
        add(bundle
            .name
            .trim_end_matches("一件事")
            .trim_end_matches("一类事"));
    }
    for licence in &catalog.licence_types {
        add(&licence.name);
    }
    for theme in &catalog.themes {
        add(&theme.name);
    }
    for word in vocabulary.dictionary_words() {
        words.insert(normalise(word));
    }
    words
}

fn phrases<'a>(name: &str, aliases: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    let mut all = name_parts(name);
    for alias in aliases {
        let compact: String = normalise(alias)
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect();
        all.push(compact);
    }
    all
}

/// At most this many characters of a step's description.
const STEP_CHARS: usize = 90;

fn shorten(text: &str) -> String {
    if text.chars().count() <= STEP_CHARS {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(STEP_CHARS).collect();
    short.push('…');
    short
}

fn item_entry(item: &ItemDefinition) -> Entry {
    let first_step = match item.process.first() {
        Some(step) => shorten(&format!("{}:{}", step.name, step.description)),
        None => shorten(&item.summary),
    };
    Entry {
        kind: AnswerKind::Item,
        code: item.implementation_code.to_string(),
        name: item.name.clone(),
        phrases: phrases(&item.name, &item.aliases),
        variants: Vec::new(),
        first_step,
        online_address: item.online_address.clone(),
    }
}

fn bundle_entry(bundle: &BundleDefinition, catalog: &CatalogDocument) -> Entry {
    let mut prepare: Vec<&str> = Vec::new();
    for member in &bundle.members {
        let Some(item) = catalog.item(&member.item) else {
            continue;
        };
        for material in &item.materials {
            if material.requirement == Requirement::Required
                && !prepare.contains(&material.name.as_str())
            {
                prepare.push(material.name.as_str());
            }
        }
    }
    prepare.truncate(3);
    let first_step = if prepare.is_empty() {
        shorten(&bundle.summary)
    } else {
        shorten(&format!(
            "一次申请、一套材料:先准备{}等,再在线提交或到综合窗口办理",
            prepare.join("、")
        ))
    };
    Entry {
        kind: AnswerKind::Bundle,
        code: bundle.code.to_string(),
        name: bundle.name.clone(),
        phrases: phrases(&bundle.name, &bundle.aliases),
        variants: Vec::new(),
        first_step,
        online_address: None,
    }
}
