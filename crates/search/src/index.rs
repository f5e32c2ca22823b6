//! An in-memory BM25F index over a few hundred catalog entries. Each entry has weighted fields
//! (name, aliases, result, guide text, materials, themes, members); a term is either a word or a
//! synonym group (`~12`), so that one lookup finds both exact and everyday wordings.

use std::collections::HashMap;

/// The fields of an entry, with their weights: what a name says counts far more than what a
/// material list mentions in passing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    Alias,
    Result,
    Guide,
    Material,
    Theme,
    Member,
}

impl Field {
    pub const ALL: [Field; 7] = [
        Field::Name,
        Field::Alias,
        Field::Result,
        Field::Guide,
        Field::Material,
        Field::Theme,
        Field::Member,
    ];

    fn index(self) -> usize {
        self as usize
    }

    fn weight(self) -> f32 {
        match self {
            Field::Name => 3.0,
            Field::Alias => 2.2,
            Field::Result => 1.2,
            Field::Guide => 0.5,
            Field::Material => 0.25,
            Field::Theme => 0.6,
            Field::Member => 0.5,
        }
    }

    /// Length normalisation: long guide texts should not drown short names, and a long alias list
    /// should not be punished for being thorough.
    fn b(self) -> f32 {
        match self {
            Field::Name | Field::Result => 0.5,
            Field::Alias | Field::Theme | Field::Member => 0.3,
            Field::Guide | Field::Material => 0.75,
        }
    }
}

const FIELDS: usize = Field::ALL.len();
const K1: f32 = 1.2;

/// The terms of one entry, per field, before indexing.
#[derive(Debug, Default, Clone)]
pub struct EntryTerms {
    pub fields: [Vec<String>; FIELDS],
}

impl EntryTerms {
    pub fn add(&mut self, field: Field, terms: impl IntoIterator<Item = String>) {
        self.fields[field.index()].extend(terms);
    }
}

#[derive(Debug, Clone, Copy)]
struct Posting {
    entry: u32,
    tf: [u16; FIELDS],
}

#[derive(Debug, Default, Clone)]
pub struct Index {
    postings: HashMap<String, Vec<Posting>>,
    lengths: Vec<[u32; FIELDS]>,
    average: [f32; FIELDS],
}

impl Index {
    pub fn build(entries: &[EntryTerms]) -> Index {
        let mut index = Index::default();
        let mut totals = [0u64; FIELDS];
        for (position, entry) in entries.iter().enumerate() {
            let Ok(entry_id) = u32::try_from(position) else {
                break;
            };
            let mut counts: HashMap<&str, [u16; FIELDS]> = HashMap::new();
            let mut lengths = [0u32; FIELDS];
            for field in Field::ALL {
                let terms = &entry.fields[field.index()];
                lengths[field.index()] = u32::try_from(terms.len()).unwrap_or(u32::MAX);
                totals[field.index()] += terms.len() as u64;
                for term in terms {
                    let tf = counts.entry(term.as_str()).or_default();
                    tf[field.index()] = tf[field.index()].saturating_add(1);
                }
            }
            for (term, tf) in counts {
                index
                    .postings
                    .entry(term.to_owned())
                    .or_default()
                    .push(Posting {
                        entry: entry_id,
                        tf,
                    });
            }
            index.lengths.push(lengths);
        }
        let count = entries.len().max(1) as f32;
        for field in Field::ALL {
            index.average[field.index()] = (totals[field.index()] as f32 / count).max(1.0);
        }
        index
    }

    pub fn entries(&self) -> usize {
        self.lengths.len()
    }

    /// BM25F scores of every entry holding the term, added into `scores` through `keep`, which
    /// receives (entry, score) and decides what to do with it.
    pub fn score_term(&self, term: &str, mut keep: impl FnMut(usize, f32)) {
        let Some(postings) = self.postings.get(term) else {
            return;
        };
        let n = self.entries() as f32;
        let df = postings.len() as f32;
        let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
        for posting in postings {
            let entry = posting.entry as usize;
            let Some(lengths) = self.lengths.get(entry) else {
                continue;
            };
            let mut weighted = 0.0f32;
            for field in Field::ALL {
                let tf = f32::from(posting.tf[field.index()]);
                if tf == 0.0 {
                    continue;
                }
                let relative = lengths[field.index()] as f32 / self.average[field.index()];
                let norm = 1.0 - field.b() + field.b() * relative;
                weighted += field.weight() * tf / norm;
            }
            let score = idf * weighted * (K1 + 1.0) / (K1 + weighted);
            keep(entry, score);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &[&str], guide: &[&str]) -> EntryTerms {
        let mut terms = EntryTerms::default();
        terms.add(Field::Name, name.iter().map(|s| (*s).to_owned()));
        terms.add(Field::Guide, guide.iter().map(|s| (*s).to_owned()));
        terms
    }

    fn scores(index: &Index, term: &str) -> Vec<f32> {
        let mut all = vec![0.0; index.entries()];
        index.score_term(term, |entry, score| all[entry] += score);
        all
    }

    #[test]
    fn a_word_in_the_name_outweighs_the_same_word_in_the_guide() {
        let index = Index::build(&[
            entry(&["驾驶证", "补证"], &["身份证"]),
            entry(&["身份证"], &["驾驶证"]),
            entry(&["结婚"], &["登记"]),
        ]);
        let driving = scores(&index, "驾驶证");
        assert!(driving[0] > driving[1], "{driving:?}");
        assert_eq!(driving[2], 0.0);
    }

    #[test]
    fn a_rare_word_outweighs_a_common_one() {
        let index = Index::build(&[
            entry(&["登记", "结婚"], &[]),
            entry(&["登记", "出生"], &[]),
            entry(&["登记", "死亡"], &[]),
        ]);
        let common = scores(&index, "登记")[0];
        let rare = scores(&index, "结婚")[0];
        assert!(rare > common, "rare {rare} common {common}");
    }
}
