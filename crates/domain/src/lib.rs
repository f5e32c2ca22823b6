//! The pure rules of tongban (通办), an integrated government-services platform.
//!
//! This crate holds what the platform *means*, with no I/O, no clock reads and no knowledge of
//! HTTP, SQL or HTML: adapters (`tongban-store`, `tongban-web`, the `tongban` binary) depend on it,
//! never the reverse. CI proves that with `cargo tree -p tongban-domain -e normal`.
//!
//! One module per bounded context:
//! - [`calendar`]: the working-day calendar (工作日历) with official holidays and make-up workdays;
//! - [`ids`]: identifiers as parse-don't-validate newtypes (resident ID numbers, unified social
//!   credit codes, electronic-licence identifiers, region and item codes);
//! - [`catalog`]: the service catalog (事项目录): items, materials, situational guidance, data
//!   elements, licence types and "one thing" bundles (一件事), with versioning;
//! - [`org`]: regions, departments, halls, windows, staff and the demo parties.
//! - [`halls`]: service halls: appointments, tickets and the queue, visits, window planning.
//! - [`access`]: the sign-in throttle and the actor a department system's API token acts as.
//! - [`agents`]: agents (帮办代办), their mandates (委托) and home visits (上门服务).
//!
//! ```
//! use tongban_domain::ids::IdNumber;
//! let id = IdNumber::parse("11010519491231002X").unwrap();
//! assert_eq!(id.birth_date().year(), 1949);
//! ```

pub mod access;
pub mod agents;
pub mod calendar;
pub mod cases;
pub mod catalog;
pub mod clock;
pub mod feedback;
pub mod halls;
pub mod hotline;
pub mod ids;
pub mod keys;
pub mod licences;
pub mod org;
pub mod stats;
