//! An in-memory view of the small, slowly changing parts of the catalog (organisation and
//! vocabulary), so that pages and responses can show names without a query per name. It is
//! loaded at start-up and reloaded whenever the catalog changes through this server.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use tongban_domain::catalog::{DataElement, LicenceType, Theme};
use tongban_domain::keys::{DataElementCode, DepartmentKey, HallKey, LicenceTypeKey, ThemeKey};
use tongban_domain::org::{Department, Hall, Organisation};
use tongban_store::model::Vocabulary;
use tongban_store::{Store, StoreError};

#[derive(Debug, Default)]
pub struct Lookup {
    pub organisation: Organisation,
    pub vocabulary: Vocabulary,
    departments: BTreeMap<DepartmentKey, usize>,
    halls: BTreeMap<HallKey, usize>,
    themes: BTreeMap<ThemeKey, usize>,
    elements: BTreeMap<DataElementCode, usize>,
    licence_types: BTreeMap<LicenceTypeKey, usize>,
}

impl Lookup {
    pub fn new(organisation: Organisation, vocabulary: Vocabulary) -> Lookup {
        fn index<K: Ord + Clone, T>(entries: &[T], key: impl Fn(&T) -> &K) -> BTreeMap<K, usize> {
            entries
                .iter()
                .enumerate()
                .map(|(i, e)| (key(e).clone(), i))
                .collect()
        }
        Lookup {
            departments: index(&organisation.departments, |d| &d.key),
            halls: index(&organisation.halls, |h| &h.key),
            themes: index(&vocabulary.themes, |t| &t.key),
            elements: index(&vocabulary.data_elements, |e| &e.code),
            licence_types: index(&vocabulary.licence_types, |l| &l.key),
            organisation,
            vocabulary,
        }
    }

    pub async fn load(store: &Store) -> Result<Lookup, StoreError> {
        Ok(Lookup::new(
            store.catalog.organisation().await?,
            store.catalog.vocabulary().await?,
        ))
    }

    pub fn department(&self, key: &DepartmentKey) -> Option<&Department> {
        self.departments
            .get(key)
            .map(|&i| &self.organisation.departments[i])
    }

    pub fn department_name<'a>(&'a self, key: &'a DepartmentKey) -> &'a str {
        self.department(key)
            .map_or(key.as_str(), |d| d.name.as_str())
    }

    pub fn hall(&self, key: &HallKey) -> Option<&Hall> {
        self.halls.get(key).map(|&i| &self.organisation.halls[i])
    }

    pub fn theme(&self, key: &ThemeKey) -> Option<&Theme> {
        self.themes.get(key).map(|&i| &self.vocabulary.themes[i])
    }

    pub fn element(&self, code: &DataElementCode) -> Option<&DataElement> {
        self.elements
            .get(code)
            .map(|&i| &self.vocabulary.data_elements[i])
    }

    pub fn licence_type(&self, key: &LicenceTypeKey) -> Option<&LicenceType> {
        self.licence_types
            .get(key)
            .map(|&i| &self.vocabulary.licence_types[i])
    }
}

/// The shared, swappable lookup.
#[derive(Debug, Clone, Default)]
pub struct SharedLookup(Arc<RwLock<Arc<Lookup>>>);

impl SharedLookup {
    pub fn new(lookup: Lookup) -> SharedLookup {
        SharedLookup(Arc::new(RwLock::new(Arc::new(lookup))))
    }

    /// The current view; cheap (one `Arc` clone).
    pub fn get(&self) -> Arc<Lookup> {
        match self.0.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn replace(&self, lookup: Lookup) {
        match self.0.write() {
            Ok(mut guard) => *guard = Arc::new(lookup),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(lookup),
        }
    }
}
