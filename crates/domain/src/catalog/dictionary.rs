//! The shared vocabulary that items are built from: data elements (数据元) for forms, licence
//! types (电子证照类型) that results produce and later applications reuse, and themes.

use serde::{Deserialize, Serialize};

use crate::keys::{DataElementCode, DepartmentKey, LicenceTypeKey, ThemeKey};

/// A data element: one field that means the same thing on every form that asks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataElement {
    pub code: DataElementCode,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
    pub kind: ElementKind,
    /// For `choice` elements.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// Personal data: masked on screens that do not need it, never logged.
    #[serde(default)]
    pub personal: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ElementKind {
    Text,
    LongText,
    IdNumber,
    CreditCode,
    Date,
    Phone,
    Address,
    RegionCode,
    Integer,
    Money,
    Area,
    Choice,
    Boolean,
    Email,
    PostalCode,
}

/// Who holds licences of a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Holder {
    Person,
    Organisation,
}

/// A licence type (电子证照类型).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenceType {
    pub key: LicenceTypeKey,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
    /// The national type code: the defining body's credit code followed by three digits.
    pub type_code: String,
    pub holder: Holder,
    /// The department that issues it in the demo city, when the city issues it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<DepartmentKey>,
    /// Validity in years; none means it does not expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validity_years: Option<u32>,
    /// The data elements a licence of this type carries (for prefilling forms).
    pub data_elements: Vec<DataElementCode>,
}

/// Whose life event a theme describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    Personal,
    Enterprise,
}

/// A theme (主题): a life event of a person or an enterprise, used to browse the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Theme {
    pub key: ThemeKey,
    pub name: String,
    pub name_en: String,
    pub audience: Audience,
    #[serde(default)]
    pub order: u32,
}
