//! Reading and writing catalog data as files: the demo content that ships in `data/demo/`, and
//! the versioned JSON document of `tongban catalog export`/`import`.
//!
//! A data folder holds `city.toml` (the organisation) and `catalog/` with shared vocabulary files
//! (`*.toml` at its top level, each a partial [`CatalogDocument`]), one item per file in
//! `catalog/items/` and one bundle per file in `catalog/bundles/`. Splitting by entry keeps diffs
//! readable and lets several people edit the catalog without conflicts.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tongban_domain::catalog::{BundleDefinition, CatalogDocument, ItemDefinition};
use tongban_domain::org::Organisation;

/// The format version of the exported JSON document; bumped when its shape changes.
pub const EXPORT_FORMAT: u32 = 1;

/// Everything a data folder or an export holds.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSet {
    #[serde(default = "current_format")]
    pub format: u32,
    pub organisation: Organisation,
    pub catalog: CatalogDocument,
}

fn current_format() -> u32 {
    EXPORT_FORMAT
}

/// A file that could not be read or understood, with the file's path.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
}

impl FileError {
    pub fn code(&self) -> &'static str {
        match self {
            FileError::Io { .. } => "data_file_unreadable",
            FileError::Parse { .. } => "data_file_invalid",
        }
    }
}

fn read(path: &Path) -> Result<String, FileError> {
    std::fs::read_to_string(path).map_err(|source| FileError::Io {
        path: path.to_owned(),
        source,
    })
}

fn parse_toml<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> Result<T, FileError> {
    toml::from_str(text).map_err(|error| FileError::Parse {
        path: path.to_owned(),
        message: error.to_string(),
    })
}

/// One data file: its path relative to the data folder (with `/` separators) and its text.
#[derive(Debug, Clone)]
pub struct DataFile {
    pub path: String,
    pub text: String,
}

/// Reads every `.toml` file of a data folder (the folder itself, `catalog/`, `catalog/items/`,
/// `catalog/bundles/`), sorted so that loading is deterministic.
pub fn read_folder(folder: &Path) -> Result<Vec<DataFile>, FileError> {
    let mut files = Vec::new();
    for sub in ["", "catalog", "catalog/items", "catalog/bundles"] {
        let dir = if sub.is_empty() {
            folder.to_owned()
        } else {
            folder.join(sub)
        };
        if !dir.is_dir() {
            continue;
        }
        let entries = std::fs::read_dir(&dir).map_err(|source| FileError::Io {
            path: dir.clone(),
            source,
        })?;
        let mut paths = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| FileError::Io {
                path: dir.clone(),
                source,
            })?;
            let path = entry.path();
            if path.is_file() && path.extension().is_some_and(|e| e == "toml") {
                paths.push(path);
            }
        }
        paths.sort();
        for path in paths {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let relative = if sub.is_empty() {
                name
            } else {
                format!("{sub}/{name}")
            };
            files.push(DataFile {
                path: relative,
                text: read(&path)?,
            });
        }
    }
    Ok(files)
}

/// Loads a data folder from disk.
pub fn load_folder(folder: &Path) -> Result<DataSet, Vec<FileError>> {
    let files = read_folder(folder).map_err(|e| vec![e])?;
    load_files(&files)
}

/// Builds a data set from data files (from disk or embedded in the binary). Every file is
/// parsed even when an earlier one fails, so that one run reports every broken file.
pub fn load_files(files: &[DataFile]) -> Result<DataSet, Vec<FileError>> {
    let mut errors = Vec::new();
    let mut organisation = None;
    let mut catalog = CatalogDocument::default();
    let mut items = Vec::new();
    let mut bundles = Vec::new();
    for file in files {
        let path = Path::new(&file.path);
        let parsed = if file.path == "city.toml" {
            parse_toml::<Organisation>(path, &file.text).map(|o| organisation = Some(o))
        } else if file.path.starts_with("catalog/items/") {
            parse_toml::<ItemDefinition>(path, &file.text).map(|i| items.push(i))
        } else if file.path.starts_with("catalog/bundles/") {
            parse_toml::<BundleDefinition>(path, &file.text).map(|b| bundles.push(b))
        } else if file.path.starts_with("catalog/") {
            parse_toml::<CatalogDocument>(path, &file.text).map(|part| catalog.extend(part))
        } else {
            Ok(())
        };
        if let Err(error) = parsed {
            errors.push(error);
        }
    }
    let Some(organisation) = organisation else {
        errors.push(FileError::Parse {
            path: PathBuf::from("city.toml"),
            message: "the data folder has no city.toml (the organisation)".into(),
        });
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    catalog.items.extend(items);
    catalog.bundles.extend(bundles);
    Ok(DataSet {
        format: EXPORT_FORMAT,
        organisation,
        catalog,
    })
}

/// Loads either a data folder or an exported JSON document.
pub fn load(path: &Path) -> Result<DataSet, Vec<FileError>> {
    if path.is_dir() {
        return load_folder(path);
    }
    let text = read(path).map_err(|e| vec![e])?;
    let data: DataSet = serde_json::from_str(&text).map_err(|error| {
        vec![FileError::Parse {
            path: path.to_owned(),
            message: error.to_string(),
        }]
    })?;
    if data.format != EXPORT_FORMAT {
        return Err(vec![FileError::Parse {
            path: path.to_owned(),
            message: format!(
                "export format {} is not supported (this version reads format {EXPORT_FORMAT})",
                data.format
            ),
        }]);
    }
    Ok(data)
}

impl DataSet {
    /// Checks the organisation and the catalog together; every problem as one line.
    pub fn problems(&self) -> Vec<String> {
        let mut problems: Vec<String> = Vec::new();
        if let Err(errors) = self.organisation.validate() {
            problems.extend(errors.into_iter().map(|e| e.to_string()));
        }
        if let Err(errors) = self.catalog.validate(&self.organisation) {
            problems.extend(errors.into_iter().map(|e| e.to_string()));
        }
        problems
    }
}
